"""Quoting helpers for the SQL text the ingester builds (identifiers and string literals)."""

from __future__ import annotations


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
