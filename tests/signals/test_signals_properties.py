"""Property-based edge cases (hypothesis): empty, single minute, all-missing HR, unsorted input,
midnight and month boundaries, the same participant's minutes arriving in several files."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation import signals
from evaluation.signals import _reference as R

CFG = signals.CleaningConfig(clock_offset_min_steps=200)
STARTS = ["2023-01-31 23:30", "2023-02-28 22:00", "2023-12-31 23:55", "2024-02-28 23:00", "2023-06-15 11:00"]


@st.composite
def minute_frames(draw, max_rows=240, hr_missing=False):
    parts = []
    for k in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, max_rows))
        start = pd.Timestamp(draw(st.sampled_from(STARTS)), tz="Asia/Seoul")
        offs = np.cumsum(draw(st.lists(st.sampled_from([0, 1, 1, 1, 1, 2, 17]), min_size=n, max_size=n)))
        steps = draw(st.lists(st.sampled_from([0, 0, 0, 0, 3, 40, 101, 131, 300]), min_size=n, max_size=n))
        hr = [np.nan] * n if hr_missing else draw(
            st.lists(st.sampled_from([np.nan, 60.0, 60.0, 61.0, 72.0, 15.0, 240.0]), min_size=n, max_size=n))
        parts.append(pd.DataFrame({
            "participant_id": f"P{k}", "ts": start + pd.to_timedelta(offs, unit="min"),
            "steps": np.asarray(steps, np.int64), "heart_rate": np.asarray(hr, np.float64),
        }))
    return pd.concat(parts, ignore_index=True)


def check_accounting(df: pd.DataFrame, cleaned: pd.DataFrame, daily: pd.DataFrame) -> None:
    assert len(cleaned) == len(df)
    pd.testing.assert_frame_equal(cleaned[df.columns], df)
    assert int(daily["recorded_minutes"].sum() + daily["n_duplicate"].sum()) == len(df)
    assert int(daily["wear_minutes"].sum()) == int(cleaned["wear"].sum())
    assert int(daily["steps"].sum()) == int(cleaned.loc[cleaned["wear"], "steps_clean"].sum())
    assert (daily["wear_minutes"] <= 1440).all() and (daily["recorded_minutes"] <= 1440).all()
    assert not daily.duplicated(["participant_id", "date"]).any()


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(minute_frames())
def test_accounting_and_reference_agree(df):
    cleaned = signals.clean_minutes(df, CFG)
    daily = signals.daily_summary(cleaned, CFG)
    check_accounting(df, cleaned, daily)
    ref = R.clean_minutes_pandas(df, CFG)
    for c in signals.ADDED_COLUMNS:
        np.testing.assert_array_equal(cleaned[c].to_numpy(float), ref[c].to_numpy(float), err_msg=c)
    if len(df):
        rd = R.daily_summary_pandas(ref, CFG)
        np.testing.assert_array_equal(daily["steps"], rd["steps"])
        np.testing.assert_array_equal(daily["wear_minutes"], rd["wear_minutes"])
        np.testing.assert_allclose(daily["resting_hr"], rd["resting_hr"])


@SETTINGS
@given(st.one_of(minute_frames(), minute_frames(hr_missing=True)), st.sampled_from(["steps", "hr_steps"]))
def test_step_rule_and_no_hr_fallback_match_reference(df, rule):
    # a short steps_frame so that zero-step runs reach it in small frames; with "hr_steps",
    # participants whose heart rate is all missing take the steps rule (the fallback)
    cfg = replace(CFG, nonwear=rule, steps_frame=4)
    cleaned = signals.clean_minutes(df, cfg)
    ref = R.clean_minutes_pandas(df, cfg)
    for c in ("flag_nonwear", "wear"):
        np.testing.assert_array_equal(cleaned[c].to_numpy(), ref[c].to_numpy(), err_msg=c)


@SETTINGS
@given(minute_frames(), st.randoms(use_true_random=False))
def test_unsorted_input_same_answer(df, rnd):
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = df.iloc[order]
    a = signals.clean_minutes(df, CFG)
    b = signals.clean_minutes(shuffled, CFG).loc[df.index]
    # ties between identical duplicates may pick a different copy: compare per minute
    key = ["participant_id", "ts"]
    for c in ("flag_nonwear", "flag_hr_stuck", "flag_hr_implausible", "gap_minutes", "flag_clock_offset"):
        ka = a[~a["flag_duplicate"]].set_index(key)[c].sort_index()
        kb = b[~b["flag_duplicate"]].set_index(key)[c].sort_index()
        pd.testing.assert_series_equal(ka, kb)
    pd.testing.assert_frame_equal(signals.daily_summary(a, CFG), signals.daily_summary(b, CFG))


@SETTINGS
@given(minute_frames(hr_missing=True))
def test_all_missing_heart_rate(df):
    c = signals.clean_minutes(df, CFG)
    assert not c["flag_hr_implausible"].any() and not c["flag_hr_stuck"].any()
    assert c["heart_rate_clean"].isna().all()
    # without HR (a step-only device) only zero-step runs of >= steps_frame (120) minutes can be
    # non-wear; steps > 0 always mean wear
    assert not c.loc[c["steps"] > 0, "flag_nonwear"].any()
    short = c.groupby("participant_id")["ts"].transform("size") < CFG.steps_frame
    assert not c.loc[short, "flag_nonwear"].any()
    d = signals.daily_summary(c, CFG)
    assert d["resting_hr"].isna().all()
    check_accounting(df, c, d)


@SETTINGS
@given(minute_frames(max_rows=120))
def test_participant_split_across_files(df):
    # the same export delivered twice (two files overlap): the second copy is all duplicates
    both = pd.concat([df, df], ignore_index=True)
    c1, c2 = signals.clean_minutes(df, CFG), signals.clean_minutes(both, CFG)
    d1, d2 = signals.daily_summary(c1, CFG), signals.daily_summary(c2, CFG)
    assert c2["flag_duplicate"].sum() >= len(df)
    cols = [c for c in d1.columns if c not in ("n_duplicate", "n_conflict")]
    pd.testing.assert_frame_equal(d1[cols], d2[cols])


def test_empty_and_single_minute():
    empty = pd.DataFrame({"participant_id": pd.Series([], dtype=object),
                          "ts": pd.Series([], dtype="datetime64[ns, Asia/Seoul]"),
                          "steps": pd.Series([], dtype=np.int64), "heart_rate": pd.Series([], dtype=np.float64)})
    c = signals.clean_minutes(empty)
    assert len(c) == 0 and set(signals.ADDED_COLUMNS) <= set(c.columns)
    d = signals.daily_summary(c)
    assert len(d) == 0 and tuple(d.columns) == signals.DAILY_COLUMNS
    one = pd.DataFrame({"participant_id": ["A"], "ts": pd.to_datetime(["2023-03-31 23:59"]).tz_localize("Asia/Seoul"),
                        "steps": [12], "heart_rate": [80.0]})
    d = signals.daily_summary(signals.clean_minutes(one))
    assert len(d) == 1 and d["date"].iloc[0] == pd.Timestamp("2023-03-31")
    assert d["steps"].iloc[0] == 12 and d["wear_minutes"].iloc[0] == 1 and not d["valid_day"].iloc[0]


def test_midnight_and_month_boundary_days():
    ts = pd.date_range("2023-01-31 23:00", "2023-02-01 00:59", freq="min", tz="Asia/Seoul")
    df = pd.DataFrame({"participant_id": "A", "ts": ts, "steps": 10, "heart_rate": 70.0 + np.arange(len(ts)) % 3})
    d = signals.daily_summary(signals.clean_minutes(df))
    assert d["date"].tolist() == [pd.Timestamp("2023-01-31"), pd.Timestamp("2023-02-01")]
    assert d["wear_minutes"].tolist() == [60, 60] and d["steps"].tolist() == [600, 600]
    # the same instants given in UTC land on the same local days
    utc = df.assign(ts=df["ts"].dt.tz_convert("UTC"))
    pd.testing.assert_frame_equal(signals.daily_summary(signals.clean_minutes(utc)), d)
