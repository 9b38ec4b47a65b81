"""One codemod per bug family; a module whose name starts with `_` is a shared helper."""
