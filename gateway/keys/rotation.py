"""Data key rotation: a new key version for new writes, then the old records re-encrypted in batches.

Rules this module keeps:
1. Starting a rotation stores data key version n+1 and the marker ``rotation:<contract>`` in one
   transaction. Every running gateway writes under n+1 within ``CURRENT_TTL_SECONDS`` (keyring rule 4).
2. A record moves from version k to n+1 by a conditional ``UPDATE … WHERE key_version = k``, one batch
   per transaction: a crash loses at most the batch in flight, and running the command again resumes
   (the marker says a rotation is unfinished; already moved records are not touched again).
3. A rotation finishes only when a sweep finds no record under an older version after the settle time
   (the TTL plus a margin) has passed since n+1 was created, so a record a gateway wrote under the old
   version just before it saw the new one is caught. Older versions are then marked ``retired``: kept
   and readable, protecting nothing.
4. A record that fails its integrity check is left as it is and counted; the rotation stays unfinished
   and says so. Nothing crashes and no value is logged.
5. Table and column names in the SQL below come from :class:`SealedTable` constants in the code, never
   from input (hence the ``noqa: S608``); every value is a bound parameter.
6. Only ``data`` keys rotate. ``token`` keys never do: the same value must keep its token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.errors import IntegrityError, KeyError_
from gateway.keys.crypto import seal
from gateway.keys.keyring import CURRENT_TTL_SECONDS, DATA, KeyRing, SealedTable
from gateway.store.base import Transaction

#: Wait this long after a new version appears before the last sweep (rule 3).
SETTLE_SECONDS = CURRENT_TTL_SECONDS + 2.0
BATCH = 500

Progress = Callable[[int], None]


def marker_name(contract: str) -> str:
    return f"rotation:{contract}"


@dataclass(frozen=True)
class Rotation:
    """A rotation of one contract's data key to ``version`` (new, or resumed after a stop)."""

    contract: str
    version: int
    resumed: bool
    started_at: datetime


@dataclass
class RotationResult:
    reencrypted: int = 0
    failed: int = 0
    finished: bool = False


def _current_version(tx: Transaction, contract: str) -> tuple[int, str] | None:
    row = tx.fetchone(
        "SELECT version, created_at FROM data_keys WHERE contract = ? AND purpose = ? ORDER BY version DESC LIMIT 1",
        (contract, DATA),
    )
    return (int(row[0]), str(row[1])) if row else None


def begin(ring: KeyRing, contract: str) -> Rotation:
    """Start a rotation of ``contract``'s data key, or resume the unfinished one."""
    if contract.startswith("_"):
        raise ValueError(f"{contract} holds internal keys; only contracts' data keys rotate")
    db = ring.db
    with db.transaction(write=True) as tx:
        current = _current_version(tx, contract)
        if current is None:
            raise KeyError_(f"contract {contract} has no data key yet (one is made on its first stored value)")
        marker = tx.fetchone("SELECT value FROM store_meta WHERE name = ?", (marker_name(contract),))
        if marker is not None and int(marker[0]) == current[0]:
            resumed, version, created = True, current[0], current[1]
        else:
            version = current[0] + 1
            if not ring.insert_key_locked(tx, contract, DATA, version):
                raise KeyError_(f"another process started version {version} of {contract}'s data key: try again")
            created = datetime.now(UTC).isoformat()
            if marker is None:
                tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", (marker_name(contract), str(version)))
            else:
                tx.execute("UPDATE store_meta SET value = ? WHERE name = ?", (str(version), marker_name(contract)))
            resumed = False
    ring.forget_current(contract)
    return Rotation(contract, version, resumed, datetime.fromisoformat(created))


def pending(ring: KeyRing, contract: str, tables: Sequence[SealedTable]) -> list[tuple[str, int]]:
    """Which tables still hold records under an older data key version than the current one."""
    version, _ = ring.current(contract)
    return _pending(ring, contract, version, tables)


def _pending(ring: KeyRing, contract: str, version: int, tables: Sequence[SealedTable]) -> list[tuple[str, int]]:
    out = []
    with ring.db.transaction() as tx:
        for t in tables:
            row = tx.fetchone(
                f"SELECT COUNT(*) FROM {t.name} WHERE {t.contract_column} = ? AND {t.version_column} < ?",  # noqa: S608
                (contract, version),
            )
            out.append((t.name, int(row[0]) if row else 0))
    return out


def remaining(ring: KeyRing, rotation: Rotation, tables: Sequence[SealedTable]) -> int:
    return sum(n for _, n in _pending(ring, rotation.contract, rotation.version, tables))


def _sweep(ring: KeyRing, rotation: Rotation, table: SealedTable, batch: int, progress: Progress | None,
           result: RotationResult) -> None:
    t, contract, target = table, rotation.contract, rotation.version
    new_key = ring.version(contract, target)
    with ring.db.transaction() as tx:
        versions = [int(r[0]) for r in tx.fetchall(
            f"SELECT DISTINCT {t.version_column} FROM {t.name}"  # noqa: S608
            f" WHERE {t.contract_column} = ? AND {t.version_column} < ?",
            (contract, target),
        )]
    for old in sorted(versions):
        after = ""
        while True:
            with ring.db.transaction() as tx:
                rows = tx.fetchall(
                    f"SELECT {t.id_column}, {t.ciphertext_column} FROM {t.name} WHERE {t.contract_column} = ?"  # noqa: S608
                    f" AND {t.version_column} = ? AND {t.id_column} > ? ORDER BY {t.id_column} LIMIT {int(batch)}",
                    (contract, old, after),
                )
            if not rows:
                break
            updates = []
            for record_id, blob in rows:
                try:
                    plaintext = ring.open_record(t, contract, str(record_id), old, bytes(blob))
                except IntegrityError:
                    result.failed += 1  # rule 4: left as it is, the rotation stays unfinished
                    continue
                updates.append((seal(new_key, plaintext, t.associated_data(contract, str(record_id), target)),
                                str(record_id)))
            with ring.db.transaction(write=True) as tx:
                for blob_new, record_id in updates:
                    result.reencrypted += tx.execute(
                        f"UPDATE {t.name} SET {t.version_column} = ?, {t.ciphertext_column} = ?"  # noqa: S608
                        f" WHERE {t.contract_column} = ? AND {t.id_column} = ? AND {t.version_column} = ?",
                        (target, blob_new, contract, record_id, old),
                    )
            if progress is not None:
                progress(len(rows))
            after = str(rows[-1][0])


def reencrypt(
    ring: KeyRing,
    rotation: Rotation,
    tables: Sequence[SealedTable],
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
    settle: float = SETTLE_SECONDS,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> RotationResult:
    """Move every record of ``rotation.contract`` to the new version; finish the rotation if all moved."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    result = RotationResult()
    settle_until = rotation.started_at + timedelta(seconds=settle)
    while True:
        result.failed = 0  # counted per sweep: each sweep meets the same unreadable records again
        for table in tables:
            _sweep(ring, rotation, table, batch, progress, result)
        if result.failed:
            return result  # rule 4
        wait = (settle_until - now()).total_seconds()
        if wait <= 0:
            break
        sleep(wait)  # rule 3: let every gateway's cached version expire, then sweep once more
    result.finished = _finish(ring, rotation, tables)
    return result


def _finish(ring: KeyRing, rotation: Rotation, tables: Sequence[SealedTable]) -> bool:
    db = ring.db
    with db.transaction(write=True) as tx:
        for t in tables:
            row = tx.fetchone(
                f"SELECT COUNT(*) FROM {t.name} WHERE {t.contract_column} = ? AND {t.version_column} < ?",  # noqa: S608
                (rotation.contract, rotation.version),
            )
            if row and int(row[0]):
                return False  # a straggler appeared after the last sweep: the next run picks it up
        tx.execute(
            "UPDATE data_keys SET status = 'retired' WHERE contract = ? AND purpose = ? AND version < ?"
            " AND status = 'active'",
            (rotation.contract, DATA, rotation.version),
        )
        tx.execute("DELETE FROM store_meta WHERE name = ?", (marker_name(rotation.contract),))
    return True
