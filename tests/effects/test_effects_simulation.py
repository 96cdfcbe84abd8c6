"""Simulation study (slow): 95% CI coverage of matched ATT and DiD, and the bias of naive before/after.

A small, fast DGP (not evaluation.synth) so that >= 200 replications run in about a minute:
confounders x1, x2 drive both treatment and outcome; baseline measured with error and treatment
selected on the measured baseline (so before/after among the treated is inflated by regression
to the mean); constant true effect TAU.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation import effects

TAU = -4.0
REPS = 200


def _draw(rng: np.random.Generator, n: int = 600) -> pd.DataFrame:
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.5, n).astype(float)
    true0 = 130 + 5 * x1 + 3 * x2 + rng.normal(0, 8, n)
    y0 = true0 + rng.normal(0, 6, n)  # measured baseline
    p = 1 / (1 + np.exp(-(-1.5 + 0.6 * x1 - 0.4 * x2 + 0.05 * (y0 - 130))))
    t = (rng.random(n) < p).astype(float)
    y1 = true0 + 1.0 + TAU * t + rng.normal(0, 6, n)  # follow-up: secular +1, effect TAU
    return pd.DataFrame({"id": np.arange(n), "x1": x1, "x2": x2, "y0": y0, "y1": y1, "t": t})


@pytest.mark.slow
def test_coverage_matched_att_and_did_and_naive_bias():
    rng = np.random.default_rng(20231)
    cover = {"ipw": 0, "psm": 0, "psm_replace_ai": 0, "aipw": 0, "did": 0}
    naive = []
    for _ in range(REPS):
        d = _draw(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", effects.EffectWarning)  # balance verdicts are not under test here
            for m in ("ipw", "psm", "aipw"):
                r = effects.matched_att(d, "t", "y1", ["x1", "x2", "y0"], method=m)  # psm: pair-clustered SE
                cover[m] += r.ci[0] < TAU < r.ci[1]
            # matching with replacement: Abadie-Imbens (2006) SE
            r = effects.matched_att(d, "t", "y1", ["x1", "x2", "y0"], method="psm", replace=True, caliper=None)
            cover["psm_replace_ai"] += r.ci[0] < TAU < r.ci[1]
        # DiD with randomised (unconfounded) timing of a second group: treatment independent of trends
        d2 = d.assign(t=(rng.random(len(d)) < 0.5).astype(float))
        d2["y1"] = d2["y0"] + rng.normal(1.0, 5, len(d2)) + TAU * d2["t"]
        long = pd.concat([d2.assign(post=0, y=d2["y0"]), d2.assign(post=1, y=d2["y1"])])
        r = effects.did_2x2(long, "y", "t", "post", unit="id")
        cover["did"] += r.ci[0] < TAU < r.ci[1]
        tr = d[d.t == 1]
        naive.append((tr.y1 - tr.y0).mean())
    rates = {k: v / REPS for k, v in cover.items()}
    for k, v in rates.items():
        assert 0.90 <= v <= 0.99, (k, rates)
    # before/after among the treated = TAU + secular trend + regression to the mean (treated measured high)
    bias = np.mean(naive) - TAU
    assert bias < 1.0 - 1.0  # more negative than the secular trend alone would allow
    assert np.mean(naive) < TAU
