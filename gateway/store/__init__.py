"""One store interface over SQLite (embedded, the default) and PostgreSQL (several gateway processes).

Callers write portable SQL with ``?`` placeholders and run it inside :meth:`Database.transaction`;
the PostgreSQL backend translates placeholders. Dialect differences live only in the migrations.
"""

from gateway.store.base import Database, Row, Transaction, open_database

__all__ = ["Database", "Row", "Transaction", "open_database"]
