"""What two or more built-in codemods use: tree searches, edits, names, LangChain."""
