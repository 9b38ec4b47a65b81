"""Pure text-level steps: outline, nesting, line maps, diffs and validation of a module's text."""
