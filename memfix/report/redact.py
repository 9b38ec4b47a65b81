"""Masks secrets quoted from code in reports meant for sharing (patches stay exact)."""

from __future__ import annotations

import re

_PATTERNS = (
    # provider API keys: OpenAI `sk-...`/`sk-proj-...`, Anthropic `sk-ant-...`
    re.compile(r"\b(sk-)[A-Za-z0-9_\-]{16,}"),
    # AWS access key ids
    re.compile(r"\b((?:AKIA|ASIA))[A-Z0-9]{16}\b"),
    # GitHub tokens
    re.compile(r"\b(gh[pousr]_)[A-Za-z0-9]{20,}"),
)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s@/'\"]+(?=@)")
_AWS_SECRET = re.compile(r"(?i)(?P<head>aws_secret_access_key\s*[=:]\s*['\"]?)[A-Za-z0-9/+=]{40}")
MASK = "****"


def redact(text: str) -> str:
    """`text` with API keys, AWS keys and passwords in URLs replaced by `****`."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    text = _URL_PASSWORD.sub(lambda match: match.group("head") + MASK, text)
    return _AWS_SECRET.sub(lambda match: match.group("head") + MASK, text)
