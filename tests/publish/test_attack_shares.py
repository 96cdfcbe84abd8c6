"""The balance-share attack as an integer programme (issue 20, attack 6): rounded shares of binary covariates
and a perturbed group size printed beside them give back small numerators; shares of perturbed counts do not.

Planted: 31 joiners (printed perturbed as 33), 13 women and 18 men, 4 smokers, 28 insured (3 not).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from evaluation.publish import attacks

K = 10


def write_run(root: Path, shares: dict[str, float], printed_n: int) -> Path:
    run = root / "run"
    (run / "tables").mkdir(parents=True)
    (run / "reports").mkdir()
    bal = pd.DataFrame({"covariate": list(shares), "type": "binary", "mean_treated": list(shares.values()),
                        "smd_before": 0.1, "method": "ipw"})
    bal.to_parquet(run / "tables" / "balance.parquet", index=False)
    results = {"40_effectiveness": {"n_joiners": {"value": printed_n, "unit": "persons", "perturbed": True}}}
    (run / "results.json").write_text(json.dumps(results), encoding="utf-8")
    (run / "reports" / "40_effectiveness.html").write_text(
        f"<table><tr><th>mean_treated</th><th>smd_before</th></tr></table><p>참여자 {printed_n}명</p>", encoding="utf-8")
    return run


def test_integer_programme_pins_numerators_from_a_perturbed_group_size(tmp_path):
    """Shares of the true counts rounded to 2 decimals over 31 people: the size window 31..35 (printed 33, perturbed)
    and the sex dummies adding up to N leave N = 31 alone, so 4 smokers and 3 uninsured come back exactly.
    Reading the printed 33 as exact (the old enumeration) finds no integer fit and so nothing."""
    shares = {"sex_F": round(13 / 31, 2), "sex_M": round(18 / 31, 2), "smoker": round(4 / 31, 2),
              "insured": round(28 / 31, 2)}
    rep = attacks.audit_run(write_run(tmp_path, shares, 33))
    p = rep.table[rep.table["attack"] == "prose"].set_index("cell")
    smoker = p.loc["smoker mean_treated (ipw)"]
    uninsured = p.loc["insured mean_treated (ipw) rest"]
    assert (smoker["low"], smoker["high"]) == (4, 4), p.to_string()
    assert (uninsured["low"], uninsured["high"]) == (3, 3)
    assert "integer programme" in smoker["how"]


def test_shares_of_perturbed_counts_expose_nothing(tmp_path):
    """As the gate publishes them (rec.share_of): perturbed numerators (14, 19, 10 standing for 13, 18, 4) over the
    printed perturbed size 33, rounded. Read as shares of true counts they fit N = 33 with numerators >= 10,
    read as shares of perturbed counts they stand for windows at least as wide as the method's: nothing small."""
    shares = {"sex_F": round(14 / 33, 2), "sex_M": round(19 / 33, 2), "smoker": round(10 / 33, 2),
              "diabetic": 0.0}
    rep = attacks.audit_run(write_run(tmp_path, shares, 33))
    assert not rep.exposed, rep.table.to_string()


def test_decode_full_precision_share_without_a_denominator(tmp_path):
    """A weekly share printed to 6 decimals (0.085714 = 3/35) and no count beside it: the run's largest
    published group is 40, so it can only be 3 of 35 -- 3 people, and 32 without."""
    run = tmp_path / "run"
    (run / "tables").mkdir(parents=True)
    (run / "reports").mkdir()
    pd.DataFrame({"arm": ["a", "a"], "week": [1, 2], "share_active": [round(3 / 35, 6), 0.5]}).to_parquet(
        run / "tables" / "retention.parquet", index=False)
    (run / "results.json").write_text(json.dumps({"30": {"enrolled": {"value": 38, "unit": "persons",
                                                                        "perturbed": True}}}), encoding="utf-8")
    rep = attacks.audit_run(run)
    d = rep.table[rep.table["attack"] == "decode"]
    num = d[d["cell"].str.endswith("share_active numerator")]
    assert len(num) == 1 and (num.iloc[0]["low"], num.iloc[0]["high"]) == (3, 3), rep.table.to_string()
    # rounded as the gate rounds (2 decimals): nothing to decode
    pd.DataFrame({"arm": ["a", "a"], "week": [1, 2], "share_active": [0.09, 0.5]}).to_parquet(
        run / "tables" / "retention.parquet", index=False)
    assert not attacks.audit_run(run).exposed
