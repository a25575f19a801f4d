"""A small accuracy regression on the committed English corpus (and the Spanish tickets when present).

The full benchmark is ``bench/accuracy/run.py`` (figures in ``docs/accuracy.md``). This test runs our
merged packs on a fixed subset and fails when leak rate, over-redaction or precision get worse than the
bounds below, which sit a little outside what was last measured: a recognizer change that loses
personal values (or starts hiding ordinary words) shows up here. Tighten the bounds when accuracy improves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from policy_support import ROOT

from gateway.policy.loader import PackLibrary
from gateway.policy.sandbox import Sandbox

sys.path.insert(0, str(ROOT / "bench" / "accuracy"))

from metrics import Score, score_sample
from run import CORPORA, DEFAULT_PACKS, load_corpus

#: corpus -> (texts, max leak rate, max over-redaction, min precision)
#: Last measured on these subsets (docs/accuracy.md, fifth round): en leak 0.5% (1 of 196 values),
#: over-redaction 0.9%, precision 0.98; es leak 0.9%, over-redaction 0.35%, precision 0.99.
BOUNDS = {
    "en": (150, 0.015, 0.015, 0.96),
    "es": (100, 0.02, 0.01, 0.97),
}


@pytest.mark.parametrize("corpus", sorted(BOUNDS))
def test_accuracy_does_not_regress(sandbox: Sandbox, library: PackLibrary, corpus: str) -> None:
    path: Path = CORPORA[corpus]
    if not path.is_file():
        pytest.skip(f"{path} not found (the Spanish tickets live in ../shared/data beside the repository)")
    count, max_leak, max_over, min_precision = BOUNDS[corpus]
    policy = library.effective(list(DEFAULT_PACKS))
    score = Score()
    for sample in load_corpus(path, count):
        result = sandbox.protect_text(policy, sample.text)
        score_sample(score, sample, [(f.start, f.end, f.entity_type) for f in result.findings if f.action != "allow"])
    figures = f"leak {score.leak_rate:.3f}, over-redaction {score.over_redaction:.3f}, precision {score.precision:.3f}"
    assert score.leak_rate <= max_leak, figures
    assert score.over_redaction <= max_over, figures
    assert score.precision >= min_precision, figures
