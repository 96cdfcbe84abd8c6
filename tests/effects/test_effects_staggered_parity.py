"""Parity, not examples: random staggered designs give the ATT(g,t), the four aggregations and the pre-test of
``moderndid`` (the Python port of R ``did``) to 1e-6, analytic SEs to 1e-4 (relative).

The draws cover never-treated and not-yet-treated controls, designs without never-treated units, unbalanced
panels, non-consecutive period labels (years, steps of 2, YYYYMM across a year end, irregular gaps),
anticipation, varying and universal base periods, covariates (time-invariant and time-varying) with the DR,
IPW and OR estimators, and cohorts with no post-treatment period (first treated after the last period, or the
last cohort of a design without never-treated units). Where moderndid departs from R ``did`` the comparison
follows R; see ``tests/did_reference.py``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evaluation import effects

pytest.importorskip("moderndid")
from did_reference import compare, moderndid_fit  # noqa: E402

LABELS = ("consecutive", "years", "step2", "yyyymm", "irregular")


def _labels(kind: str, T: int, rng: np.random.Generator) -> list[int]:
    if kind == "consecutive":
        return list(range(1, T + 1))
    if kind == "years":
        return list(range(2003, 2003 + T))
    if kind == "step2":
        return list(range(2, 2 * T + 1, 2))
    if kind == "yyyymm":  # months from September 2020: the year end falls inside the panel
        return [int((2020 + (8 + k) // 12) * 100 + (8 + k) % 12 + 1) for k in range(T)]
    return list(np.cumsum(rng.integers(1, 4, T)) + 10)


@st.composite
def designs(draw):
    """A random staggered design: cohorts on period positions, controls, labels, estimator, covariates, drops."""
    T = draw(st.integers(4, 7))
    anticipation = draw(st.sampled_from([0, 0, 1]))
    cohorts = sorted(draw(st.lists(st.integers(2 + anticipation, T), min_size=1, max_size=3, unique=True)))
    never = draw(st.booleans())
    if not never:
        # R drops periods from the last cohort's start (less anticipation): some cohort must keep a period
        cohorts = sorted(set(cohorts) | {T})
        kept = [c for c in cohorts[:-1] if c <= cohorts[-1] - anticipation - 1]
        if not kept:
            cohorts = sorted({2 + anticipation, T})
        if T - anticipation - 1 < 2 + anticipation:
            anticipation = 0
    return {
        "seed": draw(st.integers(0, 2**31 - 1)), "T": T, "cohorts": cohorts, "never": never,
        "after_last": draw(st.booleans()), "first_period": draw(st.booleans()),
        "control_group": "notyettreated" if not never else draw(st.sampled_from(["nevertreated", "notyettreated"])),
        "anticipation": anticipation, "base_period": draw(st.sampled_from(["varying", "universal"])),
        "est_method": draw(st.sampled_from(["dr", "ipw", "reg"])),
        "covariates": draw(st.sampled_from([(), ("x1",), ("x1", "x2")])),
        "labels": draw(st.sampled_from(LABELS)), "drop_rows": draw(st.integers(0, 12)),
        "n_per": draw(st.integers(12, 24)),
    }


def simulate(spec: dict) -> tuple[pd.DataFrame, dict]:
    """Long panel for a design: x1 shifts with the cohort (so covariates matter), x2 varies over time; the
    effect differs by cohort and grows with exposure. Returns the panel and the label -> position map."""
    rng = np.random.default_rng(spec["seed"])
    labels = _labels(spec["labels"], spec["T"], rng)
    pos = {lab: i + 1 for i, lab in enumerate(labels)}
    cohorts = [labels[c - 1] for c in spec["cohorts"]]
    if spec["never"]:
        cohorts.append(0)
    if spec["after_last"]:
        cohorts.append(labels[-1] + 1)  # first treated after the last period
    if spec["first_period"]:
        cohorts.append(labels[0])  # already treated in the first period
    rows, uid = [], 0
    for j, g in enumerate(cohorts):
        for _ in range(spec["n_per"]):
            x1 = rng.normal(0.3 * j, 1.0)
            a = rng.normal() + 0.5 * x1
            for t in labels:
                k = pos[t]
                x2 = rng.normal(0.1 * k, 1.0)
                gk = pos.get(g)
                eff = (1.0 + 0.2 * j + 0.3 * (k - gk)) if gk and k >= gk else 0.0
                y = a + 0.2 * k + 0.3 * x1 * k / spec["T"] + 0.2 * x2 + eff + rng.normal(0, 0.5)
                rows.append((uid, t, g, y, x1, x2))
            uid += 1
    d = pd.DataFrame(rows, columns=["unit", "period", "first", "y", "x1", "x2"])
    if spec["drop_rows"]:  # unbalanced panel: these units leave (both implementations balance the panel)
        d = d.drop(rng.choice(d.index, spec["drop_rows"], replace=False)).reset_index(drop=True)
    return d, pos


def _assert_reference_has_no_post_cell(d: pd.DataFrame, kw: dict) -> None:
    import moderndid as md

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(d, yname="y", tname="period", gname="first", idname="unit",
                      xformla=("~" + "+".join(kw["covariates"])) if kw["covariates"] else None,
                      control_group=kw["control_group"], est_method=kw["est_method"],
                      base_period=kw["base_period"], anticipation=kw["anticipation"])
    post = np.asarray(m.groups, float) <= np.asarray(m.times, float)
    assert not np.isfinite(np.asarray(m.att_gt, float)[post]).any(), (m.groups, m.times, m.att_gt)


def check_design(spec: dict) -> dict:
    d, pos = simulate(spec)
    kw = {k: spec[k] for k in ("control_group", "est_method", "base_period", "anticipation")}
    kw["covariates"] = list(spec["covariates"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", effects.StaggeredDiDWarning)
        try:
            res = effects.staggered_did(d, "unit", "period", "first", "y", **kw)
        except ValueError as exc:
            if "never-treated group has" in str(exc):  # R did's pre-processing stops on this design too
                with pytest.raises(ValueError, match="too small"):
                    moderndid_fit(d, **kw)
                return {}
            if "no post-treatment group-time cell could be estimated" not in str(exc):
                raise
            # refused: the reference must estimate no post-treatment cell either (R did and moderndid drop
            # such cells, e.g. for overlap, and aggte then stops)
            _assert_reference_has_no_post_cell(d, kw)
            return {}
    # a design without never-treated units (a cohort after the last period counts as never treated):
    # R keeps the last cohort only as a control (see did_reference)
    last = max(spec["cohorts"]) if not (spec["never"] or spec["after_last"]) else None
    if spec["labels"] in ("consecutive", "years"):
        label_of_last = None if last is None else next(lab for lab, p in pos.items() if p == last)
        return compare(res, moderndid_fit(d, **kw), exclude_cohort=label_of_last)
    # labels are not consecutive: the reference is the same panel on positions 1..T
    far = len(pos) + 5
    relab = d.assign(period=d["period"].map(pos),
                     first=d["first"].map(lambda g: 0 if g == 0 else pos.get(g, far if g > max(pos) else 1)))
    diffs = compare(res, moderndid_fit(relab, **kw), to_ref=lambda x: pos[x], exclude_cohort=last)
    if spec["anticipation"] == 0:
        # without anticipation the labels themselves give moderndid's ATT(g,t), simple, group and calendar
        compare(res, moderndid_fit(d, **kw), aggs=("simple", "group", "calendar"),
                exclude_cohort=None if last is None else next(lab for lab, p in pos.items() if p == last))
    return diffs


MAX_DIFFS: dict[str, float] = {}


def _spec(**kw) -> dict:
    base = {"seed": 1, "T": 6, "cohorts": [3, 5], "never": True, "after_last": False, "first_period": False,
            "control_group": "nevertreated", "anticipation": 0, "base_period": "varying", "est_method": "dr",
            "covariates": ("x1", "x2"), "labels": "consecutive", "drop_rows": 6, "n_per": 16}
    return {**base, **kw}


# fixed corners the random draws reach rarely: every label kind, anticipation with each control group,
# each estimator with never-treated controls and covariates
@example(spec=_spec(labels="step2", est_method="ipw"))
@example(spec=_spec(labels="yyyymm", anticipation=1, cohorts=[3, 4, 6], control_group="notyettreated"))
@example(spec=_spec(labels="irregular", anticipation=1, base_period="universal", est_method="reg"))
@example(spec=_spec(never=False, control_group="notyettreated", anticipation=1, cohorts=[3, 4, 7], T=7,
                    base_period="universal", labels="years"))
@example(spec=_spec(after_last=True, first_period=True, est_method="reg", covariates=("x1",), labels="yyyymm"))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=designs())
def test_staggered_did_equals_moderndid_on_random_designs(spec):
    for k, v in check_design(spec).items():
        MAX_DIFFS[k] = max(MAX_DIFFS.get(k, 0.0), v)


@pytest.mark.slow
# found by a random draw on a clean clone: the only post-treatment cell fails overlap in both implementations
@example(spec=_spec(seed=4, T=4, cohorts=[4], labels="irregular", drop_rows=2, n_per=12))
# and one where dropped rows leave 5 never-treated units with one covariate: R did and moderndid stop
@example(spec=_spec(seed=12, T=4, cohorts=[2], covariates=("x1",), drop_rows=11, n_per=12))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=designs())
def test_staggered_did_equals_moderndid_on_many_random_designs(spec):
    check_design(spec)
