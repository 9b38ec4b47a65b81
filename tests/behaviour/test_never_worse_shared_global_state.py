"""shared-global-state never makes a Flask route worse than the chain every user shares.

The route reads its user from the JSON body it parses itself and turns away a request
without one. The fix must key the chain by that user, after the route's own check, and
never read a request field no client sends. Each program runs before and after
`memfix apply` with the echo model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import invoke
from tests.support.conversations import conversation, remembers_apart
from tests.support.fakes import run_program
from tests.support.fixtures import FIXTURES, parse_fixture

ORIGINAL = parse_fixture(FIXTURES / "shared-global-state" / "flask_validated_body.py")[0]
NOT_FIXED = "ConversationBufferMemory 'memory' is one object for every user of chat()"


@dataclass(frozen=True)
class Variant:
    source: str
    fixable: bool = True  # False: no identity is proven in reach, the file must not change


def _renamed(source: str) -> str:
    return (
        source.replace("data = request", "payload = request")
        .replace("= data.get(", "= payload.get(")
        .replace("chain = ConversationChain", "bot = ConversationChain")
        .replace("chain.predict", "bot.predict")
        .replace("message = payload", "text = payload")
        .replace("input=message", "input=text")
    )


def _read_by_subscript(source: str) -> str:
    return source.replace(
        '    data = request.get_json(silent=True) or {}\n    user_id = data.get("user_id")\n'
        "    if not user_id:\n"
        '        return jsonify(error="user_id is required"), 400\n',
        '    data = request.get_json()\n    user_id = data["user_id"]\n',
    )


def _aborted_and_logged(source: str) -> str:
    return source.replace(
        "import Flask, jsonify, request", "import Flask, abort, jsonify, request"
    ).replace(
        '    if not user_id:\n        return jsonify(error="user_id is required"), 400\n',
        '    app.logger.debug("body %s", data)\n'
        "    if user_id is None:\n"
        "        abort(400)\n"
        '    app.logger.debug("user %s", user_id)\n',
    )


def _result_used_directly(source: str) -> str:
    return source.replace(
        "    reply = chain.predict(input=message)\n    return jsonify(reply=reply)\n",
        "    return jsonify(reply=chain.predict(input=message))\n",
    ).replace("    if not user_id:", '    if not user_id or not data.get("message"):')


def _unchecked_get(source: str) -> str:
    # Every client that omits the field would get None, one conversation for all of them.
    return source.replace(
        '    if not user_id:\n        return jsonify(error="user_id is required"), 400\n', ""
    )


def _identity_under_another_name(source: str) -> str:
    return (
        source.replace("user_id = data", "uid = data")
        .replace("if not user_id", "if not uid")
        .replace('"chat turn for %s", user_id', '"chat turn for %s", uid')
    )


VARIANTS = {
    "original": Variant(ORIGINAL),
    "renamed": Variant(_renamed(ORIGINAL)),
    "read_by_subscript": Variant(_read_by_subscript(ORIGINAL)),
    "aborted_and_logged": Variant(_aborted_and_logged(ORIGINAL)),
    "result_used_directly": Variant(_result_used_directly(ORIGINAL)),
    "unchecked_get": Variant(_unchecked_get(ORIGINAL), fixable=False),
    "identity_under_another_name": Variant(_identity_under_another_name(ORIGINAL), fixable=False),
}


def _run(source: str) -> tuple[tuple[str, str], list[tuple[int, list[str], type]]]:
    """Two users' conversation, then a request without a user; each response's kind."""
    client = run_program(source)["app"].test_client()
    results: list[tuple[int, list[str], type]] = []

    def post(body: dict[str, str]) -> None:
        response = client.post("/chat", json=body)
        reply = response.get_json(silent=True) or {}
        results.append((response.status_code, sorted(reply), type(reply.get("reply"))))

    prompts = conversation(lambda user, text: post({"user_id": user, "message": text}))
    post({"message": "who am I?"})
    return prompts, results


def _apply(tmp_path: Path, source: str, *flags: str) -> tuple[str, str]:
    path = tmp_path / "chat_app.py"
    path.write_text(source, encoding="utf-8")
    code, out, err = invoke("apply", "--yes", "--select", "shared-global-state", *flags, str(path))
    assert code in (0, 1), out + err
    return path.read_text(encoding="utf-8"), out + err


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fix_of_shared_chain_keeps_users_apart_and_requests_working(
    name: str, tmp_path: Path, legacy_langchain: None
) -> None:
    variant = VARIANTS[name]
    prompts_before, results_before = _run(variant.source)
    assert not remembers_apart(prompts_before)  # the bug: B's prompt carries A's turns
    fixed, output = _apply(tmp_path, variant.source)
    if not variant.fixable:
        assert fixed == variant.source
        assert NOT_FIXED in output
        return
    assert fixed != variant.source
    prompts_after, results_after = _run(fixed)
    assert remembers_apart(prompts_after)
    assert results_after == results_before
    assert all(status == 200 for status, *_ in results_after[:-1])


@pytest.mark.parametrize("name", ["unchecked_get", "identity_under_another_name"])
def test_unsafe_fixes_never_make_a_flask_route_read_a_field_no_client_sends(
    name: str, tmp_path: Path
) -> None:
    source = VARIANTS[name].source
    fixed, output = _apply(tmp_path, source, "--unsafe-fixes")
    assert fixed == source
    assert NOT_FIXED in output


def test_fetch_of_the_session_chain_comes_after_the_route_turns_away_a_request(
    tmp_path: Path,
) -> None:
    fixed, _ = _apply(tmp_path, ORIGINAL)
    check = fixed.index('return jsonify(error="user_id is required"), 400')
    assert 'request.json["session_id"]' not in fixed
    assert check < fixed.index("chain = get_session_chain(user_id)")
