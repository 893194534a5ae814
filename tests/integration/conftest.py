"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from streamcore.settings import Settings
from tests.integration.published import Published, publish


@pytest.fixture(scope="module")
def published(stack: Settings) -> Published:
    return publish(stack)
