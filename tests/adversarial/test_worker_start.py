"""The detector is ready only when every inspection worker has loaded, not just the quickest.

Workers load side by side; the first one ready could answer every warm-up call while another is still
loading, and the first message sent to the slow one would then spend its time budget waiting for it
(seen as timeouts right after start on a loaded machine). One worker here is made seconds slower.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.inspect.pool import Detector

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("adversarial-worker-start")]


async def test_start_waits_until_every_worker_has_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADUANA_TEST_SLOW_START", str(tmp_path / "slow-worker"))
    detector = Detector(["slow_start_recognizer"], workers=2, timeout=30)
    await detector.start()
    try:
        assert (tmp_path / "slow-worker").exists()  # one worker did take the slow start
        assert detector.ready and len(detector.worker_pids) == 2
    finally:
        await detector.close()
