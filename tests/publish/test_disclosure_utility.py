"""Protection keeps the numbers useful: on a synthetic cohort of 20,000 people (known truth) the published ATT and
KPI shares stay inside their own 95% CIs, and perturbed counts move by little (benchmarks/bench_disclosure_utility.py)."""
from __future__ import annotations

import importlib.util
import warnings

import pytest


@pytest.fixture(scope="module")
def bench(repo_root):
    spec = importlib.util.spec_from_file_location("bench_disclosure_utility",
                                                  repo_root / "benchmarks" / "bench_disclosure_utility.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_headline_effect_and_kpi_shares_stay_inside_their_cis_and_counts_move_little(bench):
    from evaluation import synth

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, checks = bench.utility(synth.participants(20_000, seed=2023), "synthetic")
    assert len(checks) == 3 and all(c.endswith("True") for c in checks), checks
    rows = table.set_index("measure")
    att = rows.loc["ATT sbp (IPW), mmHg"]
    assert att["abs_change"] < 0.01  # 3 significant digits
    cells = rows[rows.index.str.contains("mean \\|change\\| of cells")]["abs_change"]
    assert len(cells) == 2 and (cells > 0).all() and (cells <= 1.0).all()  # perturbed, by less than one person on average
    small = rows[rows.index.str.contains("cells 1-9")]
    assert (small["published"] == 0).all()  # no published count of 1-9 people
    # a table's grand total is the sum of its perturbed cells (hundreds of them): unbiased, off by well under 1%
    totals = rows[rows.index.str.endswith("grand total")]
    assert (totals["abs_change"] / totals["true"] < 0.01).all()
