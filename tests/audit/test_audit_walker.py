"""Property tests of the chain walker: for any chain and any single deletion, swap or truncation,
the first bad sequence number is the first position the attack touched."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.record import GENESIS, link_hash
from gateway.audit.verify import ChainWalker, Entry, Report


def chain(n: int) -> list[Entry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        digest = hashlib.sha256(seq.to_bytes(8, "big")).digest()
        own = link_hash(prev, digest)
        entries.append(Entry(seq, prev, own, digest, omitted=False))
        prev = own
    return entries


def walk(entries: list[Entry], last: Entry) -> Report:
    report = Report(source="test")
    walker = ChainWalker(report, 1, GENESIS, [])
    for entry in entries:
        walker.feed(entry)
    walker.finish(last.seq, last.hash, "the manifest")
    return report


@given(st.integers(min_value=1, max_value=40))
def test_an_intact_chain_verifies(n: int) -> None:
    entries = chain(n)
    assert walk(entries, entries[-1]).ok


@given(st.data())
def test_deletion(data: st.DataObject) -> None:
    entries = chain(data.draw(st.integers(min_value=1, max_value=40)))
    i = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    attacked = entries[:i] + entries[i + 1:]
    assert walk(attacked, entries[-1]).first_bad_seq == i + 1


@given(st.data())
def test_swap(data: st.DataObject) -> None:
    entries = chain(data.draw(st.integers(min_value=2, max_value=40)))
    i = data.draw(st.integers(min_value=0, max_value=len(entries) - 2))
    j = data.draw(st.integers(min_value=i + 1, max_value=len(entries) - 1))
    attacked = list(entries)
    attacked[i], attacked[j] = attacked[j], attacked[i]
    assert walk(attacked, entries[-1]).first_bad_seq == i + 1


@given(st.data())
def test_truncation_caught_by_the_manifest_or_a_checkpoint(data: st.DataObject) -> None:
    entries = chain(data.draw(st.integers(min_value=2, max_value=40)))
    keep = data.draw(st.integers(min_value=1, max_value=len(entries) - 1))
    last = entries[-1]
    assert walk(entries[:keep], last).first_bad_seq == keep + 1
    # Without the manifest's promise, the checkpoint on the last record still catches it.
    report = Report(source="test")
    walker = ChainWalker(report, 1, GENESIS, [(last.seq, last.hash, "t")])
    for entry in entries[:keep]:
        walker.feed(entry)
    walker.finish(None, None, "the export")
    assert report.first_bad_seq == keep + 1
