"""The rule API: declarations without libcst, per-finding fix safety, the registry's checks."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper

from memfix.results import Fix
from memfix.rules import FixAvailability, Rule, registry
from memfix.rules.codemod import Codemod, Context
from memfix.source.outline import Outline

CODEMODS = Path(__file__).parents[2] / "codemods"

DOC = """A call of `risky`, `plain` or `hopeless`.

## What it does
Reports each one.
"""

DEMO = Rule(
    name="demo-rule",
    load="memfix_demo_rule:DemoRule",
    fix=FixAvailability.SOMETIMES,
    screen=(b"risky", b"plain"),
    triggers=frozenset({"Risky"}),
    documentation=DOC,
)


class DemoRule(Codemod):
    RULE = DEMO
    MESSAGE = "a call of {name}"

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        name = original_node.func.value if isinstance(original_node.func, cst.Name) else ""
        message = self.MESSAGE.format(name=name)
        if name == "risky":
            self.report(original_node, message, fixed=True, fix=Fix.UNSAFE)
        elif name == "plain":
            self.report(original_node, message, fixed=True)
        elif name == "hopeless":
            self.report(original_node, message, fixed=True, fix=Fix.NONE)
        return updated_node


def reported(codemod_class: type[Codemod], source: str) -> Codemod:
    codemod = codemod_class(Context("demo.py", source.splitlines()))
    MetadataWrapper(cst.parse_module(source)).visit(codemod)
    return codemod


def outline_of(packages: set[str], calls: set[str]) -> Outline:
    return Outline(frozenset(packages), {}, frozenset(calls))


@dataclass(frozen=True)
class FakeDistribution:
    name: str


@dataclass(frozen=True)
class FakeEntryPoint:
    """What the registry reads of an entry point: its names, and what loading it gives."""

    name: str
    value: str
    dist: FakeDistribution | None
    target: object = None
    error: Exception | None = None

    @property
    def module(self) -> str:
        return self.value.partition(":")[0]

    def load(self) -> object:
        if self.error is not None:
            raise self.error
        return self.target


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeEntryPoint]]:
    """Entry points the registry finds for this test, instead of the installed ones."""
    found: list[FakeEntryPoint] = []

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        assert group == "memfix.codemods"
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    registry._declared.cache_clear()
    registry.load.cache_clear()
    yield found
    registry._declared.cache_clear()
    registry.load.cache_clear()


def plugin(rule: Rule, distribution: str = "memfix-demo") -> FakeEntryPoint:
    return FakeEntryPoint(rule.name, "memfix_demo_rule:RULE", FakeDistribution(distribution), rule)


def loaded_by(*statements: str) -> set[str]:
    script = "\n".join([*statements, "import sys", "print(' '.join(sorted(sys.modules)))"])
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "MEMFIX_NO_CACHE": "1"},
        check=True,
    )
    return set(done.stdout.split())


def test_every_declaration_loads_without_libcst_or_any_codemod_class() -> None:
    loaded = loaded_by("from memfix.rules import registry", "registry.rules()")
    assert "memfix.codemods.per_call_state" in loaded  # the declarations were read
    assert "libcst" not in loaded
    assert not {rule.module for rule in registry.rules()} & loaded
    assert not any(name.startswith(("memfix.pipeline", "memfix.project")) for name in loaded)


def test_rules_and_explain_read_the_declarations_only() -> None:
    for command in ("rules", "explain per-call-state"):
        loaded = loaded_by(
            "import sys",
            f"sys.argv = ['memfix', *{command.split()!r}]",
            "from memfix.cli import main",
            "try:\n    main()\nexcept SystemExit:\n    pass",
        )
        assert "memfix.rules.registry" in loaded, command
        assert "libcst" not in loaded, command


def test_a_rule_names_its_codemod_as_module_and_class() -> None:
    assert (DEMO.module, DEMO.attribute) == ("memfix_demo_rule", "DemoRule")
    with pytest.raises(ValueError, match="module:Class"):
        Rule(name="bad", load="memfix_demo_rule.DemoRule", fix=FixAvailability.NEVER)


def test_a_finding_defaults_to_the_rules_safety_unless_fixes_are_never_available() -> None:
    assert DEMO.default_fix is Fix.SAFE
    unsafe = Rule(name="u", load="m:C", fix=FixAvailability.ALWAYS, safety=Fix.UNSAFE)
    assert unsafe.default_fix is Fix.UNSAFE
    assert Rule(name="n", load="m:C", fix=FixAvailability.NEVER).default_fix is Fix.NONE
    with pytest.raises(ValueError, match="NEVER"):
        Rule(name="n", load="m:C", fix=FixAvailability.SOMETIMES, safety=Fix.NONE)


def test_a_rule_wants_text_with_one_of_its_words_or_what_its_finer_test_accepts() -> None:
    assert DEMO.wants("x = plain()") and not DEMO.wants("x = other()")
    finer = Rule(name="f", load="m:C", fix=FixAvailability.NEVER, screen=(b"plain",))
    finer = replace(finer, text_test=lambda text: "both" in text)
    assert finer.wants("both") and not finer.wants("plain")
    assert Rule(name="any", load="m:C", fix=FixAvailability.NEVER).wants("anything")


def test_the_outline_stage_passes_a_module_calling_a_trigger_or_accepted_by_its_test() -> None:
    assert DEMO.wants_outline(outline_of(set(), {"Risky"}), "")
    assert not DEMO.wants_outline(outline_of({"gradio"}, {"Other"}), "")
    gradio = replace(DEMO, outline_test=lambda found, text: "gradio" in found.packages)
    assert gradio.wants_outline(outline_of({"gradio"}, {"Other"}), "")
    assert gradio.wants_outline(outline_of(set(), {"Risky"}), "")
    ungated = Rule(name="any", load="m:C", fix=FixAvailability.NEVER)
    assert ungated.wants_outline(outline_of(set(), set()), "")


def test_a_codemod_takes_its_name_fix_screen_and_documentation_from_its_rule() -> None:
    assert DemoRule.NAME == "demo-rule"
    assert DemoRule.FIX is Fix.SAFE
    assert DemoRule.VOCABULARY == (b"risky", b"plain")
    assert {"Risky"} == DemoRule.TRIGGERS
    assert DemoRule.documentation().startswith("A call of") and "## What it does" in DOC
    assert DemoRule.summary() == "A call of `risky`, `plain` or `hopeless`."
    assert DemoRule.wants("plain()") and not DemoRule.wants("other()")


def test_report_gives_each_finding_its_own_fix_safety_defaulting_to_the_rules() -> None:
    codemod = reported(DemoRule, "risky()\nplain()\nhopeless()\n")
    found = {finding.line: (finding.fix, finding.fixed) for finding in codemod.findings}
    assert found == {1: (Fix.UNSAFE, True), 2: (Fix.SAFE, True), 3: (Fix.NONE, False)}


def test_report_only_rules_report_findings_without_a_fix() -> None:
    never = replace(DEMO, fix=FixAvailability.NEVER)

    class ReportOnly(DemoRule):
        RULE = never

    codemod = reported(ReportOnly, "plain()\n")
    assert [(f.fix, f.fixed) for f in codemod.findings] == [(Fix.NONE, False)]


def test_no_codemod_patches_a_finding_after_reporting_it() -> None:
    for path in sorted(CODEMODS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                patched = isinstance(target, ast.Subscript) and "findings" in ast.unparse(target)
                assert not patched, f"{path}:{node.lineno}: {ast.unparse(node)}"


def test_each_built_in_rule_declares_its_fix_availability_as_its_examples_show() -> None:
    for codemod in registry.all_codemods():
        assert codemod.RULE is not None
        fixed = [case for case in codemod.INVALID if case.expected is not None]
        unfixed = [case for case in codemod.INVALID if case.expected is None]
        availability = codemod.RULE.fix
        if availability is FixAvailability.ALWAYS:
            assert fixed and not unfixed, codemod.NAME
        elif availability is FixAvailability.NEVER:
            assert unfixed and not fixed and codemod.FIX is Fix.NONE, codemod.NAME
        else:
            assert fixed and unfixed, codemod.NAME


def test_each_built_in_rule_is_documented_by_its_packages_literal_docstring() -> None:
    for rule in registry.rules():
        package = CODEMODS / rule.name.replace("-", "_") / "__init__.py"
        tree = ast.parse(package.read_text(encoding="utf-8"))
        first = tree.body[0]
        assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant), rule.name
        assert rule.documentation == first.value.value, rule.name
        assert "libcst" not in package.read_text(encoding="utf-8"), rule.name


def test_built_in_rules_run_in_the_order_of_their_priority() -> None:
    assert registry.names() == (
        "shared-global-state",
        "saver-closed-early",
        "checkpointer-per-call",
        "in-process-history",
        "unstable-session-key",
        "per-call-state",
        "legacy-conversation-chain",
        "missing-thread-id",
        "saver-async-mismatch",
        "saver-not-set-up",
        "input-key-mismatch",
        "memory-key-mismatch",
        "unwired-memory",
    )
    priorities = [rule.priority for rule in registry.rules()]
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)


def test_only_the_rules_that_declare_it_ask_for_the_repository_pass() -> None:
    asking = {rule.name for rule in registry.rules() if rule.needs_project}
    assert asking == {"shared-global-state", "per-call-state"}
    assert registry.needs_project(["memory-key-mismatch", "per-call-state"])
    assert not registry.needs_project(["memory-key-mismatch", "a-codemod-given-by-class"])


def test_the_cache_reads_every_file_of_the_rule_packages_helpers_included() -> None:
    files = {path.resolve() for path in registry.source_files()}
    assert (CODEMODS / "_shared" / "find.py").resolve() in files
    assert (CODEMODS / "per_call_state" / "transform.py").resolve() in files


def test_a_plugin_rule_runs_among_the_built_in_ones_by_priority(
    plugins: list[FakeEntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    early = replace(DEMO, name="early-demo", priority=15)
    plugins.extend([plugin(DEMO), plugin(early, "memfix-early")])
    names = registry.names()
    assert names.index("shared-global-state") < names.index("early-demo")
    assert names.index("early-demo") < names.index("in-process-history")
    assert names[-1] == "demo-rule"  # the default priority: after every built-in rule
    module = types.ModuleType("memfix_demo_rule")
    module.DemoRule = DemoRule  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "memfix_demo_rule", module)
    assert registry.by_name("demo-rule") is DemoRule


def test_a_plugin_named_like_a_built_in_rule_is_an_error_naming_its_distribution(
    plugins: list[FakeEntryPoint],
) -> None:
    plugins.append(plugin(replace(DEMO, name="per-call-state"), "memfix-clash"))
    with pytest.raises(registry.PluginError, match=r"memfix-clash.*'per-call-state'.*built-in"):
        registry.names()


def test_two_plugins_with_one_rule_name_is_an_error_naming_both(
    plugins: list[FakeEntryPoint],
) -> None:
    plugins.extend([plugin(DEMO, "memfix-one"), plugin(DEMO, "memfix-two")])
    with pytest.raises(registry.PluginError, match=r"plugin memfix-two: .* of memfix-one"):
        registry.rules()


def test_a_plugin_that_fails_to_load_is_an_error_naming_its_distribution(
    plugins: list[FakeEntryPoint],
) -> None:
    broken = FakeEntryPoint("demo-rule", "memfix_demo_rule:RULE", FakeDistribution("memfix-broken"))
    plugins.append(replace(broken, error=ImportError("no module")))
    with pytest.raises(registry.PluginError, match=r"memfix-broken: .*ImportError: no module"):
        registry.rules()


def test_a_plugin_entry_point_must_name_a_rule(plugins: list[FakeEntryPoint]) -> None:
    plugins.append(
        FakeEntryPoint("demo-rule", "memfix_demo_rule:DemoRule", FakeDistribution("memfix-odd"))
    )
    with pytest.raises(registry.PluginError, match=r"memfix-odd: .* names a NoneType, not a Rule"):
        registry.rules()


def test_a_plugin_whose_class_is_not_the_codemod_of_its_rule_is_an_error(
    plugins: list[FakeEntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = replace(DEMO, name="other-demo")
    plugins.append(plugin(other, "memfix-mixed"))
    module = types.ModuleType("memfix_demo_rule")
    module.DemoRule = DemoRule  # type: ignore[attr-defined]  # whose RULE is DEMO
    monkeypatch.setitem(sys.modules, "memfix_demo_rule", module)
    with pytest.raises(registry.PluginError, match="memfix-mixed: rule 'other-demo'"):
        registry.by_name("other-demo")


def test_a_plugin_class_that_fails_to_import_is_an_error_naming_its_distribution(
    plugins: list[FakeEntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = replace(DEMO, load="memfix_demo_rule_absent.transform:DemoRule")
    plugins.append(plugin(missing, "memfix-half"))
    with pytest.raises(registry.PluginError, match=r"memfix-half: .*ModuleNotFoundError"):
        registry.selected(("demo-rule",), ())
