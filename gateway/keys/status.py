"""What ``aduana keys status`` reports: every stored key's id, version, state, wrapping master and age.

Reads only the ``data_keys`` rows (never unwraps a key); callers add how many records each protects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.keys.keyring import read_master_id
from gateway.store.base import Database


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    contract: str
    purpose: str
    version: int
    status: str  # "active", "retired" (rotated away) or whatever a lifecycle step set
    current: bool  # the version new writes use
    master_key_id: str
    created_at: datetime

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(UTC)) - self.created_at


@dataclass(frozen=True)
class KeyStatus:
    master_key_id: str | None
    master_rotated_at: str | None
    rotations: dict[str, int]  # contract -> version of an unfinished rotation
    keys: list[StoredKey]


def key_status(db: Database) -> KeyStatus:
    with db.transaction() as tx:
        master = read_master_id(tx)
        meta: dict[str, str] = {str(n): str(v) for n, v in tx.fetchall("SELECT name, value FROM store_meta")}
        rows = tx.fetchall(
            "SELECT key_id, contract, purpose, version, status, master_key_id, created_at FROM data_keys"
            " ORDER BY contract, purpose, version"
        )
    highest: dict[tuple[str, str], int] = {}
    for _, contract, purpose, version, *_ in rows:
        highest[(contract, purpose)] = max(highest.get((contract, purpose), 0), int(version))
    keys = [
        StoredKey(
            key_id=str(key_id), contract=str(contract), purpose=str(purpose), version=int(version),
            status=str(status), current=int(version) == highest[(contract, purpose)],
            master_key_id=str(wrapped_by), created_at=_parse(str(created)),
        )
        for key_id, contract, purpose, version, status, wrapped_by, created in rows
    ]
    rotations = {
        name.removeprefix("rotation:"): int(value) for name, value in meta.items() if name.startswith("rotation:")
    }
    return KeyStatus(master, meta.get("master_rotated_at"), rotations, keys)


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_age(age: timedelta) -> str:
    """``3d 4h``, ``5h 12m``, ``42s``: short and sortable by eye."""
    seconds = max(0, int(age.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
