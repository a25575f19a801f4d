"""Disk full for real: the SQLite store on a 2 MiB tmpfs that fills up under the gateway.

Needs ``mount -t tmpfs`` (root, and a sandbox that allows it); skipped otherwise; the same fault is
injected at the store boundary in ``test_faults.py`` either way. The gateway writes until SQLite reports
``database or disk is full``: every such request is refused with 503 and reaches nobody; once space is
freed the store is whole (integrity check, audit chain, vault) and requests go through again.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from adversarial_support import assert_store_whole, build_request, send_raw

from harness import GatewayHarness, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("adversarial-disk")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path, leave: int = 0) -> Path:
    """Fill the file system of ``directory`` (but ``leave`` bytes); return the filler file."""
    filler = directory / "filler"
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(os.urandom(64 * 1024))
                fh.flush()
        except OSError:
            pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


async def test_disk_full_refuses_and_the_store_survives(small_disk: Path, tmp_path: Path) -> None:
    server, app = await start_helpdesk()
    config = gateway_config(str(server.make_url("")).rstrip("/"))
    config["store"] = {"url": f"sqlite:///{small_disk / 'aduana.db'}"}
    config["contracts"]["acme"]["routes"][0]["protect"] = "request"
    gw = await GatewayHarness(tmp_path / "gw", config).start()
    try:
        key = gw.issue_key("acme")
        port = gw.vendor.port  # type: ignore[union-attr]

        async def comment() -> tuple[int, str]:
            text = f"Write to margaret.{uuid.uuid4().hex[:10]}@example.com about it."
            body = json.dumps({"author": "Agent 7", "body": text}).encode()
            r = await send_raw(port, build_request("POST", COMMENTS, key=key, body=body,
                                                   headers=[("Content-Type", "application/json")]))
            return r.status, text

        assert (await comment())[0] == 201
        accepted = 1
        filler = fill(small_disk)
        refused: list[str] = []
        for _ in range(300):  # the WAL may still have room for a few commits
            status, text = await comment()
            if status == 201:
                accepted += 1
            else:
                assert status == 503
                refused.append(text)
                if len(refused) >= 5:
                    break
        assert refused, "the disk never filled up"
        assert len(app[RECEIVED]) == accepted, "a refused request reached the helpdesk"
        filler.unlink()
        assert (await comment())[0] == 201
        assert gw.runtime is not None
        assert_store_whole(gw.runtime)
    finally:
        await gw.close()
        await server.close()
