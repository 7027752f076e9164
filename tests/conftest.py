"""Fixtures shared by the index tests (``url``, ``fresh``: index locations on SQLite and PostgreSQL)."""

from .index_helpers import fresh, url

__all__ = ["fresh", "url"]
