"""Reports meant for sharing never carry a secret from the code, and nothing in a file
name or a message can inject into a terminal, a CI log or a markdown description."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from memfix.config import Settings
from memfix.pipeline.engine import fix_source
from memfix.report.github import to_github
from memfix.report.json_report import to_json
from memfix.report.jsonl import to_jsonl
from memfix.report.markdown import to_markdown
from memfix.report.rdjsonl import to_rdjsonl
from memfix.report.redact import redact
from memfix.report.sarif import to_sarif
from memfix.report.text import findings_text, printable
from memfix.results import FileResult, Finding, Fix, Status
from memfix.rules.registry import all_codemods
from tests.support.cli import invoke
from tests.support.fixtures import PROGRAM

# The canonical program, once per-call-state hoists its chain, is also a legacy chain
# whose migration is unsafe; what matters here is the fix and its reports.
CODEMODS = [c for c in all_codemods() if c.NAME != "legacy-conversation-chain"]
BY_NAME = {codemod.NAME: codemod for codemod in CODEMODS}
SETTINGS = Settings()
OPENAI_KEY = "sk-proj-Zq8vLm2Rt5Xw9Yb3Nc6Kd1Hf4Gj7Ps0Ua"

SHAREABLE: dict[str, Callable[[list[FileResult]], str]] = {
    "sarif": lambda results: to_sarif(results, CODEMODS),
    "github": to_github,
    "markdown": lambda results: to_markdown(results, BY_NAME),
    "json": to_json,
    "rdjsonl": to_rdjsonl,
    "jsonl": to_jsonl,
}


def fixed(source: str, path: str = "bot.py") -> FileResult:
    return fix_source(source, path=path, codemods=CODEMODS, settings=SETTINGS)


def with_key(literal: str) -> str:
    """The canonical program, its model built with `literal` as the key."""
    return PROGRAM.replace(
        'ChatOpenAI(model="gpt-4o-mini")', f'ChatOpenAI(model="gpt-4o-mini", api_key="{literal}")'
    )


def with_message(result: FileResult, message: str) -> FileResult:
    finding = replace(result.findings[0], message=message)
    return replace(result, findings=(finding, *result.findings[1:]))


# Secrets in shareable reports


def test_sarif_fix_replacements_carry_no_key_from_the_code() -> None:
    result = fixed(with_key(OPENAI_KEY))
    assert result.changed and OPENAI_KEY in result.after  # the fix itself stays exact
    document = json.loads(to_sarif([result], CODEMODS))
    inserted = [
        replacement["insertedContent"]["text"]
        for entry in document["runs"][0]["results"]
        for fix in entry.get("fixes", [])
        for change in fix["artifactChanges"]
        for replacement in change["replacements"]
    ]
    assert any('api_key="sk-****"' in text for text in inserted)
    assert OPENAI_KEY[3:] not in json.dumps(document)


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        pytest.param(
            "postgresql://admin:hunter2@2024@db:5432/app",
            "postgresql://admin:****@db:5432/app",
            id="password holding @",
        ),
        pytest.param("mysql://root:pa/ssw0rd@db", "mysql://root:****@db", id="password holding /"),
        pytest.param(
            "redis://:a:b:c0ntr4s3na@cache:6379",
            "redis://:****@cache:6379",
            id="password holding :",
        ),
        pytest.param("xoxb-1234567890-0987654321-AbCdEfGhIjKl", "xoxb-****", id="Slack"),
        pytest.param("hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "hf_****", id="Hugging Face"),
        pytest.param("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIza****", id="Google"),
    ],
)
@pytest.mark.parametrize("report", ["markdown", "github", "sarif", "json"])
def test_shareable_reports_mask_the_whole_secret(secret: str, masked: str, report: str) -> None:
    result = with_message(fixed(with_key(secret)), f"reads {secret} at start-up")
    text = SHAREABLE[report]([result])
    if "://" in secret:  # every piece of the password, up to the last `@`
        password = secret.split("://")[1].rsplit("@", 1)[0].split(":", 1)[1]
        hidden = [piece for piece in re.split("[@/:]", password) if len(piece) >= 4]
    else:
        hidden = [secret[-12:]]
    assert hidden and not [piece for piece in hidden if piece in text]
    assert masked in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", "sk-****", id="OpenAI"),
        pytest.param("sk-proj-abc_DEF-123456789012345", "sk-****", id="OpenAI project"),
        pytest.param("sk-ant-api03-abcdefghijklmnopqrstu-vw", "sk-****", id="Anthropic"),
        pytest.param("AKIAIOSFODNN7EXAMPLE", "AKIA****", id="AWS access key"),
        pytest.param("ASIAIOSFODNN7EXAMPLE", "ASIA****", id="AWS temporary key"),
        pytest.param(
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key=****",
            id="AWS secret key",
        ),
        pytest.param("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_****", id="GitHub classic"),
        pytest.param("gho_abcdefghijklmnopqrstuvwxyz0123456789", "gho_****", id="GitHub OAuth"),
        pytest.param(
            "github_pat_11ABCDEFG0_abcdefghijklmnopqrstuvwxyz", "github_pat_****", id="GitHub pat"
        ),
        pytest.param("xoxp-1234-5678-abcdefgh", "xoxp-****", id="Slack user"),
        pytest.param("sk_live_abcdefghijklmnopqrstuvwx", "sk_live_****", id="Stripe secret"),
        pytest.param("rk_live_abcdefghijklmnopqrstuvwx", "rk_live_****", id="Stripe restricted"),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
            "eyJ****",
            id="JSON web token",
        ),
        pytest.param(
            '{"Authorization": "Bearer abc.def"}',
            '{"Authorization": "Bearer ****"}',
            id="bearer header",
        ),
        pytest.param(
            "authorization: token 0123456789abcdef",
            "authorization: token ****",
            id="token header",
        ),
        pytest.param(
            "curl -H 'X: Bearer Zq8vLm2Rt5Xw9Yb3'", "curl -H 'X: Bearer ****'", id="bearer"
        ),
        pytest.param('password="hunter2"', 'password="****"', id="password literal"),
        pytest.param("db_password = 'x'", "db_password = '****'", id="suffix name"),
        pytest.param('{"api_key": "abc123"}', '{"api_key": "****"}', id="dict entry"),
        pytest.param('TOKEN = "t0k3n"', 'TOKEN = "****"', id="upper case"),
        pytest.param('secret_key=r"a\\"b"', 'secret_key=r"****"', id="escaped quote"),
        pytest.param(
            "amqp://me@corp.com:pw1234@broker", "amqp://me@corp.com:****@broker", id="user with @"
        ),
    ],
)
def test_redact_masks_every_family_of_secret(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "api_key=settings.key",
        "max_tokens=256",
        "memory_key 'chat_history' is not a variable of the prompt",
        "https://example.com:8080/path",
        "redis://localhost:6379/0",
        "task-scheduler-with-a-long-name",
        "surveyJuly2024Results.total",
        'if token is None: token = ""',
    ],
)
def test_redact_leaves_code_that_holds_no_secret(text: str) -> None:
    assert redact(text) == text


def test_redact_stays_linear_on_long_runs_of_name_characters() -> None:
    import time

    start = time.perf_counter()
    for text in ("a-" * 100_000, "a.a" * 100_000, "password" * 50_000, "x://" * 20_000):
        redact(text)
    assert time.perf_counter() - start < 10


def test_json_masks_by_default_and_no_redact_keeps_the_diff_exact(project: Path) -> None:
    (project / "bot.py").write_text(with_key(OPENAI_KEY), encoding="utf-8")
    ignore = ("--ignore", "legacy-conversation-chain")
    code, out, _ = invoke("check", "--format", "json", *ignore)
    assert code == 1 and OPENAI_KEY not in out and "sk-****" in out
    code, out, _ = invoke("check", "--format", "json", "--no-redact", *ignore)
    assert code == 1 and OPENAI_KEY in json.loads(out)["files"][0]["diff"]
    code, out, _ = invoke("apply", "--dry-run", "--format", "json", *ignore)
    assert OPENAI_KEY not in out
    code, out, _ = invoke("apply", "--dry-run", *ignore)
    assert OPENAI_KEY in out  # the patch itself stays exact


def test_batch_description_is_masked_and_its_patch_exact(project: Path) -> None:
    repo = project / "repo"
    repo.mkdir()
    (repo / "bot.py").write_text(with_key(OPENAI_KEY), encoding="utf-8")
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "start"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *command],
            cwd=repo,
            check=True,
        )
    out = project / "reviews"
    code, _, err = invoke(
        "batch", str(repo), "--dry-run", "--ignore", "legacy-conversation-chain", "--out", str(out)
    )
    assert code == 1, err
    [description] = out.glob("*.md")
    [patch] = out.glob("*.patch")
    assert OPENAI_KEY not in description.read_text(encoding="utf-8")
    assert 'api_key="sk-****"' in description.read_text(encoding="utf-8")
    assert OPENAI_KEY in patch.read_text(encoding="utf-8")


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _body(size: int, alphabet: str = _ALNUM) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size + 8)


# (how the secret is written, the part of it that must never be shown)
SECRETS = st.one_of(
    _body(40).map(lambda b: ("sk-proj-" + b, b)),
    _body(40).map(lambda b: ("sk-ant-api03-" + b, b)),
    _body(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789").map(lambda b: ("AKIA" + b[:16], b[:16])),
    _body(36).map(lambda b: ("ghp_" + b, b)),
    _body(30).map(lambda b: ("github_pat_" + b, b)),
    _body(24).map(lambda b: ("xoxb-" + b, b)),
    _body(34).map(lambda b: ("hf_" + b, b)),
    _body(35).map(lambda b: ("AIza" + b, b)),
    _body(24).map(lambda b: ("sk_live_" + b, b)),
    _body(30).map(lambda b: ("eyJ" + b[:15] + "." + b[15:], b)),
    _body(16, _ALNUM + "@/:").map(lambda b: (f"postgresql://admin:x{b}@db:5432/app", b)),
    _body(16).map(lambda b: (f'password="{b}"', b)),
    _body(20).map(lambda b: (f"Authorization: Bearer {b}", b)),
)


@hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
@hypothesis.given(secret=SECRETS, at=st.integers(min_value=0, max_value=len(PROGRAM)))
def test_a_secret_inserted_anywhere_never_survives_in_a_shareable_report(
    secret: tuple[str, str], at: int
) -> None:
    written, hidden = secret
    source = PROGRAM[:at] + f" {written} " + PROGRAM[at:]
    result = fix_source(source, path="bot.py", codemods=CODEMODS, settings=SETTINGS)
    quoted = replace(
        result,
        findings=tuple(replace(f, message=f"{f.message} near {written}") for f in result.findings),
    )
    tail = hidden[-8:]
    for name, render in SHAREABLE.items():
        for shown in (result, quoted):
            assert tail not in render([shown]), name


# Output injection

INJECTING = "a\n::error file=evil.py,line=1::INJECTED\n.py"


def lines_of(*texts: str) -> list[str]:
    return [line for text in texts for line in re.split(r"\r\n|\r|\n", text)]


def test_a_file_name_cannot_start_a_workflow_command_in_text_output(project: Path) -> None:
    (project / INJECTING).write_text(PROGRAM, encoding="utf-8")
    (project / "::error file=x.py,line=1::ALSO.py").write_text(PROGRAM, encoding="utf-8")
    (project / " ::warning::spaced.py").write_text(PROGRAM, encoding="utf-8")
    for command in (["check"], ["check", "-v"], ["apply", "--dry-run"]):
        code, out, err = invoke(*command)
        assert code == 1, err
        commands = [line for line in lines_of(out, err) if line.lstrip().startswith("::")]
        assert commands == [], command
    _, out, _ = invoke("check")
    assert "a\\n::error file=evil.py,line=1::INJECTED\\n.py:8:14: per-call-state" in out
    assert "./::error file=x.py,line=1::ALSO.py:8:14: per-call-state" in out


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("red\x1b[31m.py", id="escape sequence"),
        pytest.param("title\x1b]0;pwned\x07.py", id="window title"),
        pytest.param("back\r.py", id="carriage return"),
        pytest.param("bidi\u202eyp.txt.py", id="right-to-left override"),
        pytest.param("iso\u2066late.py", id="bidi isolate"),
        pytest.param("c1\x9b31m.py", id="C1 control"),
        pytest.param("line\u2028sep.py", id="line separator"),
    ],
)
def test_control_characters_in_names_are_shown_escaped(project: Path, name: str) -> None:
    (project / name).write_text(PROGRAM, encoding="utf-8")
    code, out, err = invoke("check")
    assert code == 1
    raw = {char for char in out + err if not char.isprintable() and char != "\n"}
    assert raw == set()
    assert printable(name) + ":8:14: per-call-state" in out


def test_a_patch_for_a_file_with_a_newline_in_its_name_still_applies(project: Path) -> None:
    (project / INJECTING).write_text(PROGRAM, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    code, patch, _ = invoke("apply", "--dry-run")
    assert code == 1
    assert patch.startswith('--- "a/a\\n::error file=evil.py,line=1::INJECTED\\n.py"\n')
    (project / "fix.patch").write_text(patch, encoding="utf-8")
    subprocess.run(["git", "apply", "fix.patch"], cwd=project, check=True)
    assert (project / INJECTING).read_text(encoding="utf-8") == fixed(PROGRAM).after


def failed(path: str, error: str) -> FileResult:
    return FileResult(path, "", "", "", (), Status.FAILED, error)


def test_github_annotations_escape_names_and_messages_by_the_workflow_command_rules() -> None:
    finding = Finding(
        "per-call-state", "a%0Ab\r\n::error::x, y: \x1b[2J", 3, 4, Fix.SAFE, True, False
    )
    result = FileResult("a,b:c%d\n::error::e.py", "", "", "", (finding,), Status.UNCHANGED)
    text = to_github([result, failed("x\r\n::error::y.py", "bad\n::error::z")])
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[0] == (
        "::warning file=a%2Cb%3Ac%25d%0A%3A%3Aerror%3A%3Ae.py,line=3,col=4,"
        "title=memfix per-call-state::a%250Ab%0D%0A::error::x, y: \\x1b[2J "
        "(fixable with `memfix apply`)"
    )
    assert lines[1] == "::error file=x%0D%0A%3A%3Aerror%3A%3Ay.py,title=memfix::bad%0A::error::z"


def test_github_format_of_a_hostile_file_name_is_one_annotation(project: Path) -> None:
    (project / INJECTING).write_text(PROGRAM, encoding="utf-8")
    code, out, _ = invoke("check", "--format", "github", "--select", "per-call-state")
    assert code == 1
    [line] = out.splitlines()
    assert line.startswith("::warning file=a%0A%3A%3Aerror file=evil.py%2Cline=1%3A%3AINJECTED")


def markdown_tokens(text: str) -> list[object]:
    return list(MarkdownIt("commonmark").parse(text))


def test_backticks_in_a_diff_or_a_name_never_close_the_markdown_fence() -> None:
    # A docstring line of backticks becomes the diff line " ```": a fence of its own.
    docstring = '    """Ask once.\n\n```\n````\n    """\n'
    source = PROGRAM.replace("def ask(question: str):\n", "def ask(question: str):\n" + docstring)
    source = source.replace('"gpt-4o-mini"', '"gpt-4o-mini ````` ``` ``"')
    result = fixed(source, path="a ``` b`.py")
    assert result.changed
    text = to_markdown([result], BY_NAME)
    tokens = markdown_tokens(text)
    fences = [t for t in tokens if getattr(t, "type", "") == "fence"]
    assert [getattr(t, "info", "") for t in fences] == ["diff"]
    assert getattr(fences[0], "content", "").rstrip("\n") == result.diff.rstrip("\n")
    headings = [t for t in tokens if getattr(t, "type", "") == "inline" and "at " in t.content]  # type: ignore[attr-defined]
    codes = [
        child.content
        for heading in headings
        for child in heading.children or []  # type: ignore[attr-defined]
        if child.type == "code_inline"
    ]
    assert any(re.fullmatch(r"a ``` b`\.py:\d+:\d+", code) for code in codes), codes


def test_a_name_with_a_newline_cannot_add_a_heading_to_the_description() -> None:
    result = fixed(PROGRAM, path="x.py\n# Approved by security\n.py")
    broken = failed("y.py\n## Merge me", "cannot read\n# Also approved")
    text = to_markdown([result, broken], BY_NAME, title="repo\n# injected")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert not any("pproved" in line and "\\n" not in line for line in headings)
    assert not any(
        line.startswith(("# Approved", "## Merge", "# Also", "# injected"))
        for line in text.splitlines()
    )


def test_text_report_lines_stay_one_per_finding() -> None:
    finding = Finding("per-call-state", "m\nn\x1b[0m", 1, 1, Fix.SAFE, True, False)
    result = FileResult("p\n.py", "", "", "", (finding,), Status.UNCHANGED)
    assert findings_text([result]) == "p\\n.py:1:1: per-call-state m\\nn\\x1b[0m [*]\n"
