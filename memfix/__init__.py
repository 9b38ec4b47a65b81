"""memfix: find and fix LangChain chat memory that does not persist."""

__version__ = "0.1.0"
