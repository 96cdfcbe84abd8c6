"""Cleaning and daily summaries against the known truth of evaluation.synth.minutes.

Targets from issue #3: non-wear balanced accuracy >= 0.97 with the default
rule, recall >= 0.95 for every injected artefact class, daily steps on valid
days within 1% of truth.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import signals
from evaluation.synth import minutes as sm

COPIES = ["duplicate_identical", "duplicate_conflict"]


@pytest.fixture(scope="module")
def data():
    people = pd.read_parquet("data_samples/participants.parquet").iloc[:150]
    df = sm.minutes(people, "2023-05-01", 14, seed=11)
    cleaned = signals.clean_minutes(df)
    return df, cleaned, signals.daily_summary(cleaned)


def test_nothing_removed_and_order_kept(data):
    df, cleaned, _ = data
    assert len(cleaned) == len(df)
    assert cleaned.index.equals(df.index)
    assert (cleaned["ts"].array.asi8 == df["ts"].array.asi8).all()
    for c in df.columns.drop("ts"):
        assert cleaned[c].equals(df[c]), c
    assert set(signals.ADDED_COLUMNS) <= set(cleaned.columns)


def test_nonwear_balanced_accuracy(data):
    df, cleaned, _ = data
    orig = ~df["artefact"].isin(COPIES)
    pred, truth = cleaned.loc[orig, "flag_nonwear"], df.loc[orig, "true_nonwear"]
    sens = (pred & truth).sum() / truth.sum()
    spec = (~pred & ~truth).sum() / (~truth).sum()
    assert 0.5 * (sens + spec) >= 0.97
    # sleep (worn, heart rate present, 0 steps) is wear
    sleep = orig & ~df["true_nonwear"] & df["heart_rate"].notna() & (df["steps"] == 0)
    assert not cleaned.loc[sleep, "flag_nonwear"].any()


@pytest.mark.parametrize(
    "artefact, flag",
    [
        ("duplicate_identical", lambda c: c["flag_duplicate"]),
        ("duplicate_conflict", lambda c: c["flag_duplicate"] & c["flag_conflict"]),
        ("implausible_hr", lambda c: c["flag_hr_implausible"]),
        ("stuck_hr", lambda c: c["flag_hr_stuck"]),
        ("step_spike", lambda c: c["flag_steps_implausible"]),
    ],
)
def test_artefact_recall(data, artefact, flag):
    df, cleaned, _ = data
    mask = df["artefact"] == artefact
    assert mask.sum() > 50
    assert flag(cleaned)[mask].mean() >= 0.95
    # and the flag rarely fires elsewhere (precision on the rest of the stream)
    others = ~mask & ~df["artefact"].isin(COPIES) if artefact in COPIES else ~mask
    assert flag(cleaned)[others].mean() < 0.001


def test_gap_and_clock_offset_recall(data):
    df, cleaned, _ = data
    gap = df["true_gap_before"] > 0
    assert cleaned.loc[gap, "flag_gap"].mean() >= 0.95
    assert (cleaned.loc[gap, "gap_minutes"] == df.loc[gap, "true_gap_before"]).mean() >= 0.95
    assert not cleaned.loc[~gap & ~df["artefact"].isin(COPIES), "flag_gap"].any()
    by_person = pd.DataFrame({"t": df["true_clock_offset"], "f": cleaned["flag_clock_offset"], "p": df["participant_id"]})
    per = by_person.groupby("p", observed=True).first()
    assert per["t"].sum() >= 3
    assert (per["f"] & per["t"]).sum() / per["t"].sum() >= 0.95
    assert (per["f"] & ~per["t"]).sum() <= 1


def test_duplicates_resolved_to_the_true_values(data):
    df, cleaned, _ = data
    kept = ~cleaned["flag_duplicate"]
    spikes = df["artefact"] == "step_spike"
    ok = kept & ~spikes
    assert (cleaned.loc[ok, "steps_clean"] == df.loc[ok, "true_steps"]).all()


def test_daily_steps_within_one_percent_on_valid_days(data):
    df, _, daily = data
    truth = sm.truth_daily(df)
    m = daily.merge(truth, on=["participant_id", "date"], validate="1:1")
    valid = m[m["valid_day"] & (m["true_steps"] > 0)]
    assert len(valid) > 1000
    rel = (valid["steps"] - valid["true_steps"]).abs() / valid["true_steps"]
    assert (rel <= 0.01).mean() >= 0.98
    assert abs(valid["steps"].sum() / valid["true_steps"].sum() - 1) < 0.01
    # valid-day status agrees with true wear time
    truly_valid = m["true_wear_minutes"] >= 600
    assert (m["valid_day"] == truly_valid).mean() >= 0.99


def test_daily_table_shape(data):
    df, _, daily = data
    assert tuple(daily.columns) == signals.DAILY_COLUMNS
    assert not daily.duplicated(["participant_id", "date"]).any()
    assert (daily["wear_minutes"] <= 1440).all()
    bands = daily[list(signals.BAND_COLUMNS)].sum(axis=1)
    assert (bands == daily["wear_minutes"]).all()
    assert (daily["vigorous_minutes"] <= daily["moderate_minutes"]).all()
    assert (daily["peak_30min_cadence"] <= daily["peak_1min_cadence"]).all()
    # resting HR tracks each person's generated level: 66 - 4 ln(habitual/7000) - 4 (sleep)
    people = pd.read_parquet("data_samples/participants.parquet").set_index("participant_id")
    rhr = daily.groupby("participant_id")["resting_hr"].median()
    expected = 66 - 4 * np.log(people.loc[rhr.index, "habitual_steps"] / 7000.0)
    assert np.corrcoef(rhr, expected)[0, 1] > 0.9
    assert (rhr - expected).abs().median() < 6
    # same leading names as synth.daily so cohort code reads both
    from evaluation.synth import daily as synth_daily
    p = people.reset_index().iloc[:3]
    assert {"participant_id", "date", "steps", "wear_minutes", "valid_day", "moderate_minutes",
            "vigorous_minutes", "resting_hr"} <= set(synth_daily(p, "2023-01-02", "2023-01-03").columns) & set(daily.columns)


def _balanced(pred, truth, mask=None):
    if mask is not None:
        pred, truth = pred[mask], truth[mask]
    sens = (pred & truth).sum() / truth.sum()
    spec = (~pred & ~truth).sum() / (~truth).sum()
    return 0.5 * (sens + spec), spec


def test_step_device_rules_against_truth(data):
    """Issue 13 item 4, scored on the known non-wear mask. With heart rate the default rule stays at
    ~1.0. Without heart rate (a step-only device) sleep and an unworn band look alike, so no steps-only
    rule is near 1; the step rule (120 zero-step minutes) must beat Choi's count rule carried onto steps
    (before: 0.772 on this sample) and the 10-minute rule the default used to degrade to (0.608), and
    in waking hours (08-22 h) call far less sitting non-wear than Choi (specificity 0.94 vs 0.83)."""
    df, cleaned, _ = data
    orig = ~df["artefact"].isin(COPIES).to_numpy()
    truth = df["true_nonwear"].to_numpy()[orig]
    tod = (df["ts"].array.asi8 // 60_000_000_000 + 540) % 1440
    waking = ((tod >= 8 * 60) & (tod < 22 * 60))[orig]

    def score(frame, **kw):
        pred = signals.clean_minutes(frame, signals.CleaningConfig(**kw))["flag_nonwear"].to_numpy()[orig]
        return _balanced(pred, truth), _balanced(pred, truth, waking)

    (with_hr, _), _ = score(df[["participant_id", "ts", "steps", "heart_rate"]])
    assert with_hr >= 0.9999
    step_only = df[["participant_id", "ts", "steps"]].assign(heart_rate=np.nan)
    (steps_ba, _), (_, steps_wake_spec) = score(step_only, nonwear="steps")
    with pytest.warns(signals.DeviceRuleWarning):
        (choi_ba, _), (_, choi_wake_spec) = score(step_only, nonwear="choi", allow_count_rule_on_steps=True)
    (old_default, _), _ = score(step_only, hr_absent_fallback=False)
    (new_default, _), _ = score(step_only)
    assert new_default == steps_ba  # the default falls back to the step rule without heart rate
    assert steps_ba >= choi_ba + 0.01 and steps_ba >= old_default + 0.15
    assert 0.75 <= steps_ba <= 0.85  # sleep caps any steps-only rule
    assert steps_wake_spec >= 0.92 and choi_wake_spec <= 0.86
