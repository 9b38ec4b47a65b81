from __future__ import annotations

from typing import Any

import pytest

from tests.support.fakes import install_legacy_langchain


@pytest.fixture
def legacy_langchain(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Legacy `langchain.*` imports work and ChatOpenAI is a fake that echoes its prompt."""
    install_legacy_langchain(monkeypatch)
