"""Acme support chatbot (legacy LangChain)."""
