"""Masks secrets quoted from code in reports meant for sharing (patches stay exact).

`redact` is the one masking function: SARIF, GitHub annotations, the markdown
description (and so `memfix batch`'s `.md`) and the JSON report all go through it.
A masked value keeps the prefix that says what it was (`ghp_****`, `AKIA****`;
`sk-proj-...` is `sk-****`) and loses everything after it. Over-masking a value that
only looks like a secret is the price of never leaking one that is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MASK = "****"

# Characters a key body is made of; a key ends at anything else (a quote, a space, `)`).
_BODY = r"[A-Za-z0-9_\-]"

# Keys recognisable by their own shape, wherever they appear. Group 1 is kept.
_KEYS = tuple(
    re.compile(pattern)
    for pattern in (
        # OpenAI `sk-...` and `sk-proj-...`, Anthropic `sk-ant-...`
        rf"(?<![A-Za-z0-9])(sk-){_BODY}{{12,}}",
        # Stripe secret and restricted keys
        r"(?<![A-Za-z0-9])((?:sk|rk)_(?:live|test)_)[A-Za-z0-9]{10,}",
        # AWS access key ids (long-lived and temporary)
        r"(?<![A-Za-z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        # GitHub tokens: classic `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, and fine-grained
        r"(?<![A-Za-z0-9])(gh[pousr]_)[A-Za-z0-9]{20,}",
        r"(?<![A-Za-z0-9])(github_pat_)[A-Za-z0-9_]{20,}",
        # Slack bot, user, app and refresh tokens
        r"(?<![A-Za-z0-9])(xox[abposr]-)[A-Za-z0-9\-]{8,}",
        # Hugging Face
        r"(?<![A-Za-z0-9])(hf_)[A-Za-z0-9]{20,}",
        # Google API keys
        rf"(?<![A-Za-z0-9])(AIza){_BODY}{{20,}}",
        # JSON web tokens: a base64url header that starts `{"` is `eyJ`
        rf"(?<![A-Za-z0-9])(eyJ){_BODY}{{8,}}(?:\.{_BODY}*){{0,2}}",
    )
)

# An AWS secret access key set by name, quoted or not (`aws_secret_access_key = ...` in
# `~/.aws/credentials`): 40 characters of base64.
_AWS_SECRET = re.compile(r"(?i)(aws_secret_access_key\s*[=:]\s*['\"]?)[A-Za-z0-9/+=]{40}")

# `Authorization: Bearer <token>` and the like, in a header, a dict or a string.
_AUTHORIZATION = re.compile(
    r"(?i)(authorization['\"]?\s*[:=,]\s*['\"]?\s*(?:bearer|token|basic)\s+)[^\s'\"`]+"
)
# A bearer token outside a header: long enough not to be a word of prose.
_BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]{12,}")

# `scheme://user:password@host`: the password may hold `@`, `/` and `:`, so it runs to
# the last `@` of the URL (a quote, a space or a backtick ends the URL). A user name
# may hold an `@` too (`me@corp.com:pw@host`): it runs to the first `:`.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,40}://[^\s:/'\"`<>]{0,256}:)"
    r"[^\s'\"`<>]{0,256}(?=@)"
)

# `password = "..."`, `api_key="..."`, `"token": "..."`, `AWS_SECRET_ACCESS_KEY='...'`:
# a name that says secret, assigned, mapped or compared to a string literal (only a
# literal: `api_key=settings.key` is code the reviewer must read as it is).
# The match starts at the telling word (`db_password` from `password`): a pattern that
# also scanned the name's first part would backtrack over long runs of name characters.
_SECRET_NAME = (
    r"(?:password|passwd|pwd|secret|api[_\-]?key|apikey|access[_\-]?key"
    r"|private[_\-]?key|token|credential)[A-Za-z0-9_\-]{0,100}"
)
_ASSIGNED = re.compile(
    rf"(?i)(?P<head>{_SECRET_NAME}['\"]?\s*(?:==|:=|=|:)\s*[rbuf]{{0,2}}(?P<quote>['\"]))"
    r"(?P<value>(?:(?!(?P=quote))[^\\\n]|\\.)+)(?P=quote)"
)


def _keep_first(match: re.Match[str]) -> str:
    return match.group(1) + MASK


def _keep_head(match: re.Match[str]) -> str:
    return match.group("head") + MASK


def _keep_quoted(match: re.Match[str]) -> str:
    if MASK in match.group("value"):  # a key masked already keeps the prefix naming it
        return match.group()
    return match.group("head") + MASK + match.group("quote")


_STEPS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    *((pattern, _keep_first) for pattern in _KEYS),
    (_AWS_SECRET, _keep_first),
    (_AUTHORIZATION, _keep_first),
    (_BEARER, _keep_first),
    (_URL_PASSWORD, _keep_head),
    (_ASSIGNED, _keep_quoted),
)


def redact(text: str) -> str:
    """`text` with every value that looks like a secret replaced by `****`.

    Provider keys (OpenAI, Anthropic, AWS, GitHub, Slack, Hugging Face, Google, Stripe),
    JSON web tokens, bearer tokens, passwords in URLs and string literals assigned to
    names such as `password`, `api_key` or `token` are masked; the rest is unchanged.
    """
    for pattern, replacement in _STEPS:
        text = pattern.sub(replacement, text)
    return text
