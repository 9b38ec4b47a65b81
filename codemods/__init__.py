"""The built-in rules: one package per bug family, and `_shared` for what two or more use.

Each package's `__init__` declares its rule (`RULE`, a `memfix.rules.Rule`) under the
rule's documentation and imports no libcst; its `transform` module holds the codemod.
"""
