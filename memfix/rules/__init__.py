"""The rule API: a rule's declaration, its codemod base, the registry, suppressions.

`Rule` and `FixAvailability` load without libcst; `memfix.rules.codemod` holds the
libcst base class a rule's codemod derives from.
"""

from memfix.rules.rule import PLUGIN_PRIORITY, Fix, FixAvailability, Rule

__all__ = ["PLUGIN_PRIORITY", "Fix", "FixAvailability", "Rule"]
