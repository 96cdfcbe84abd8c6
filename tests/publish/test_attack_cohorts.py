"""Cohort inference (issue 20, attack 3) and the balance-share integer programme (attack 6): each finds an
exposure planted the old, unprotected way, and nothing in the protected form.

The planted cohort: 82 people recorded every day of 2023-01-02 .. 2023-04-30, enrolled in three weekly waves
(12 in January: 7 women, 5 men; 30 in February; 40 in March). In weeks 13 to 16 since enrolment only the
January wave is still inside the data window, so those cells hold 7 women and 5 men.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluation.publish import attacks
from evaluation.publish.report import PERTURBED_KEY

K = 10
START, END = pd.Timestamp("2023-01-02"), pd.Timestamp("2023-04-30")
WAVES = {"2023-01-02": (7, 5), "2023-02-06": (16, 14), "2023-03-06": (20, 20)}  # Monday: (women, men)
WEEKS = range(-4, 17)


def people() -> pd.DataFrame:
    rows = []
    for monday, (f, m) in WAVES.items():
        for i, sex in enumerate(["F"] * f + ["M"] * m):
            rows.append({"enrolled_on": pd.Timestamp(monday) + pd.Timedelta(days=i % 7), "sex": sex})
    return pd.DataFrame(rows)


def truth_by_week() -> pd.DataFrame:
    """People and person-days per (week since enrolment, sex): everyone has a day of data every day."""
    out = []
    for _, p in people().iterrows():
        for k in WEEKS:
            first = p["enrolled_on"] + pd.Timedelta(days=7 * k)
            days = (min(first + pd.Timedelta(days=6), END) - max(first, START)).days + 1
            if days > 0:
                out.append({"week_since_enrolment": k, "level": p["sex"], "n": 1, "n_days": days})
    return pd.DataFrame(out).groupby(["week_since_enrolment", "level"], as_index=False).sum()


def write(run: Path, tables: dict[str, pd.DataFrame], perturbed: tuple[str, ...] = (), results: dict | None = None) -> Path:
    (run / "tables").mkdir(parents=True, exist_ok=True)
    (run / "reports").mkdir(exist_ok=True)
    for name, df in tables.items():
        t = pa.Table.from_pandas(df, preserve_index=False)
        if name in perturbed:
            t = t.replace_schema_metadata({**(t.schema.metadata or {}), PERTURBED_KEY: b"true"})
        pq.write_table(t, run / "tables" / f"{name}.parquet")
    (run / "results.json").write_text(json.dumps(results or {}), encoding="utf-8")
    return run


def calendar_tables(perturbed: bool) -> dict[str, pd.DataFrame]:
    dates = pd.DataFrame({"date": pd.date_range(START, END), "n": 82 if not perturbed else 83})
    e = [12, 30, 40] if not perturbed else [13, 29, 41]
    months = pd.DataFrame({"period": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-03-01"]),
                           "arm": "band_issued", "enrolled": e, "cumulative": np.cumsum(e)})
    return {"valid_by_date": dates, "enrolment_by_month": months}


def old_form() -> pd.DataFrame:
    """As published before the gate: exact n where n >= 10, exact person-days beside it, a row per non-empty cell."""
    t = truth_by_week().assign(dimension="sex", metric="participants")
    small = t["n"] < K
    t["n"] = t["n"].astype(float).mask(small)
    t["n_days"] = t["n_days"].astype(float).mask(small)
    t["estimate"] = t["n"]
    return t[["week_since_enrolment", "dimension", "level", "metric", "n", "n_days", "estimate"]]


def test_cohort_inference_pins_the_late_weeks_of_the_old_table(tmp_path):
    run = write(tmp_path / "run", {"steps_by_week_since_enrolment": old_form(), **calendar_tables(False)})
    rep = attacks.audit_run(run)
    c = rep.table[rep.table["attack"] == "cohort"]
    truth = truth_by_week().set_index(["week_since_enrolment", "level"])["n"]
    assert len(c) == 10, c.to_string()  # every withheld cell: weeks 12 to 16, women and men
    for _, row in c.iterrows():
        k, sex = int(row["cell"].split(",")[0].split("=")[1]), row["cell"].split("sex=")[1].split(":")[0]
        assert row["low"] <= truth[(k, sex)] <= row["high"] and row["high"] - row["low"] < K
    exact = c[c["cell"].str.match(r"week_since_enrolment=1[3-5], ")]
    assert len(exact) == 6 and (exact["low"] == exact["high"]).all()  # exactly 7 women and 5 men
    # without the enrolment table (nothing says when people enrolled) nothing is pinned this way
    bare = write(tmp_path / "bare", {"steps_by_week_since_enrolment": old_form()})
    assert not (attacks.audit_run(bare).table["attack"] == "cohort").any()


def test_cohort_inference_reads_the_current_form_too(tmp_path):
    """No n column: the people metric's estimate printed where n >= 13 and person-days to 2 significant
    digits still pin the January wave: its people are the difference of two weeks' exact counts."""
    t = truth_by_week().assign(dimension="sex", metric="participants")
    shown = t["n"] >= K + 3
    t["estimate"] = t["n"].astype(float).where(shown)
    t["n_days"] = t["n_days"].astype(float).map(lambda v: float(f"{v:.2g}")).where(shown)
    t = t.drop(columns=["n"])
    run = write(tmp_path / "run", {"steps_by_week_since_enrolment": t, **calendar_tables(True)},
                perturbed=("enrolment_by_month", "valid_by_date"))
    c = attacks.audit_run(run).table
    assert c["attack"].eq("cohort").sum() >= 8, c.to_string()


def protected_form() -> pd.DataFrame:
    """What the gate should publish: every (week, level) row listed, no people counts, no person-days,
    statistics only where n >= 13."""
    t = truth_by_week()
    grid = pd.MultiIndex.from_product([list(WEEKS), ["F", "M"]], names=["week_since_enrolment", "level"])
    t = t.set_index(["week_since_enrolment", "level"]).reindex(grid).reset_index()
    n = t["n"].fillna(0)
    return pd.DataFrame({"week_since_enrolment": t["week_since_enrolment"], "dimension": "sex", "level": t["level"],
                         "metric": "mean_steps", "estimate": np.where(n >= K + 3, 7000.0, np.nan),
                         "suppressed": n < K + 3})


def test_cohort_inference_no_false_alarm_on_the_protected_form(tmp_path):
    run = write(tmp_path / "run", {"steps_by_week_since_enrolment": protected_form(), **calendar_tables(True)},
                perturbed=("enrolment_by_month", "valid_by_date"))
    rep = attacks.audit_run(run)
    assert not rep.exposed, rep.table.to_string()


def test_listed_weeks_and_a_perturbed_zero_month(tmp_path):
    """No numbers at all in the week-since table, but a row only where someone is (not the full grid), and the
    January enrolment published 0 (0-9 people): the weeks only January reaches hold 1 to 9 people -- the
    bound that holds whatever the data (no model of who has data)."""
    t = truth_by_week()
    t = pd.DataFrame({"week_since_enrolment": t["week_since_enrolment"], "dimension": "sex", "level": t["level"],
                      "metric": "mean_steps", "estimate": np.nan, "suppressed": True})
    t = t[~((t["week_since_enrolment"] == 0) & (t["level"] == "M"))]  # one row missing: not the full grid
    cal = calendar_tables(True)
    cal["enrolment_by_month"]["enrolled"] = [0, 29, 41]
    cal["enrolment_by_month"]["cumulative"] = [0, 29, 70]
    rep = attacks.audit_run(write(tmp_path / "run", {"steps_by_week_since_enrolment": t, **cal},
                                  perturbed=("enrolment_by_month", "valid_by_date")))
    c = rep.table[rep.table["attack"] == "cohort"]
    late = c[c["cell"].str.match(r"week_since_enrolment=1[3-6], ")]
    assert len(late) == 8 and (late["low"] == 1).all() and (late["high"] == 9).all(), c.to_string()
    truth = truth_by_week().set_index(["week_since_enrolment", "level"])["n"]
    assert all(1 <= truth[(k, s)] <= 9 for k in range(13, 17) for s in "FM")
