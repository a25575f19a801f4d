"""Every test here runs against both stores: ``db`` is parametrized over SQLite and PostgreSQL."""

from __future__ import annotations

from backends import db, master, store_url  # noqa: F401  (fixtures)
