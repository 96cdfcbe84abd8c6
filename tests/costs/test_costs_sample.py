"""The cost notebook uses the sample only as published: shares of perturbed counts, a pseudo-sample of published counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import costs
from evaluation.publish import perturbation, report

KEY = b"test-perturbation-key-0123456789"


def _participants(n_t: int = 300, n_c: int = 280, seed: int = 5) -> pd.DataFrame:
    """Joiners and comparison people with baseline and week-24 measures (MetS criteria of mets_criteria)."""
    rng = np.random.default_rng(seed)
    n = n_t + n_c
    treated = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    arm = np.where(treated, rng.choice(["band_issued", "own_device"], n), "comparison")
    df = pd.DataFrame({"participant_id": [f"p{i:04d}" for i in range(n)], "treated": treated, "arm": arm,
                       "sex": rng.choice(["M", "F"], n),
                       "dropout_week": np.where(rng.random(n) < 0.3, rng.integers(1, 24, n).astype(float), np.nan),
                       "completed": rng.random(n) < 0.7})
    for w, shift in ((0, 0.0), (24, -0.1)):
        df[f"waist_w{w}"] = rng.normal(88 + 10 * shift, 9, n)
        df[f"sbp_w{w}"] = rng.normal(128 + 20 * shift, 14, n)
        df[f"dbp_w{w}"] = rng.normal(82 + 10 * shift, 9, n)
        df[f"glucose_w{w}"] = rng.normal(102 + 10 * shift, 15, n)
        df[f"tg_w{w}"] = rng.normal(150 + 30 * shift, 50, n)
        df[f"hdl_w{w}"] = rng.normal(50, 10, n)
    df.loc[df.sample(frac=0.05, random_state=1).index, "waist_w24"] = np.nan  # missing follow-up: unchanged
    return df


def test_published_shares_are_ratios_of_perturbed_counts_rounded_by_n(tmp_path):
    p = _participants()
    rec = report.Recorder(tmp_path / "run", notebook="50_cost_effectiveness", key=KEY)
    outcomes = costs.programme_outcomes(p)
    sample = costs.publish_outcomes(rec, p, outcomes, arms=["band_issued", "own_device", "comparison"])
    is_t = p["treated"]
    num = perturbation.perturbed_total(p.loc[is_t & p["completed"], "participant_id"], key=KEY)
    den = perturbation.perturbed_total(p.loc[is_t, "participant_id"], key=KEY)
    assert sample.n_treated == den
    assert sample.share_completed == perturbation.round_stat(num / den, den, "share")
    assert rec.results["sample_share_completed"]["value"] == sample.share_completed
    # published, not exact: the exact share has more digits than a share of n >= 100 may show (0.1 point)
    exact = outcomes.share_completed
    assert sample.share_completed == pytest.approx(exact, abs=0.02)
    assert round(sample.share_completed, 3) == sample.share_completed
    for key in ("sample_treated", "sample_comparison"):
        assert rec.results[key]["perturbed"] is True
    assert sample.extra_resolved == pytest.approx(sample.resolved_treated - sample.resolved_comparison)


def test_a_share_of_too_few_people_is_withheld_and_the_model_input_with_it(tmp_path):
    p = _participants(n_t=8, n_c=200)  # 8 joiners: published as 0 or 10, below 13
    rec = report.Recorder(tmp_path / "run", notebook="n", key=KEY)
    sample = costs.publish_outcomes(rec, p, costs.programme_outcomes(p))
    assert sample.share_completed is None and rec.results["sample_share_completed"]["value"] is None
    assert sample.extra_resolved is None


def test_the_bootstrap_sample_is_rebuilt_from_the_published_counts_only(tmp_path):
    p = _participants()
    rec = report.Recorder(tmp_path / "run", notebook="n", key=KEY)
    sample = costs.publish_outcomes(rec, p, costs.programme_outcomes(p), arms=["band_issued", "own_device", "comparison"])
    counts = report.load_table(rec.output_dir, costs._sample.CHANGE_TABLE)
    assert report.is_perturbed(rec.output_dir / "tables" / f"{costs._sample.CHANGE_TABLE}.parquet")
    assert not counts["participants"].between(1, 9).any()
    pseudo = costs.trial_from_counts(sample.change_counts)
    assert len(pseudo) == int(counts["participants"].sum())
    got = pseudo.value_counts(["arm", "change"]).rename("participants").reset_index()
    want = counts[counts["participants"] > 0][["arm", "change", "participants"]]
    merged = want.merge(got, on=["arm", "change"], suffixes=("", "_rebuilt"))
    assert len(merged) == len(want) and (merged["participants"] == merged["participants_rebuilt"]).all()
    assert "participant_id" not in pseudo.columns


def test_trial_from_counts_refuses_negative_counts():
    with pytest.raises(ValueError):
        costs.trial_from_counts(pd.DataFrame({"arm": ["a"], "change": [0], "participants": [-1]}))
