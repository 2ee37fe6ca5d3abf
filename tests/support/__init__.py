"""Helpers shared by the test suites (import as `from tests.support import ...`)."""

from tests.support.poll import eventually

__all__ = ["eventually"]
