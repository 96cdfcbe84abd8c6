"""Each cleaning rule on small hand-made streams, and the numba kernels against the pandas reference."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation import signals
from evaluation.signals import _reference as R
from evaluation.synth import minutes as sm

UTC = signals.CleaningConfig(tz="UTC", detect_clock_offset=False)
SEOUL = signals.CleaningConfig(detect_clock_offset=False)


def stream(steps, hr=None, start="2023-03-06 00:00", pid="A"):
    steps = np.asarray(steps)
    hr = np.full(len(steps), 70.0) if hr is None else np.asarray(hr, float)
    return pd.DataFrame({
        "participant_id": pid,
        "ts": pd.date_range(start, periods=len(steps), freq="min", tz="Asia/Seoul"),
        "steps": steps, "heart_rate": hr,
    })


def nonwear(df, **kw):
    if kw.get("nonwear") in ("choi", "troiano"):
        kw.setdefault("device", "count")  # the published rules, on activity counts
    return signals.clean_minutes(df, signals.CleaningConfig(detect_clock_offset=False, **kw))["flag_nonwear"].to_numpy()


def test_choi_frame_and_spike_allowance():
    # Choi et al. 2011: 90 zero minutes; up to 2 non-zero minutes allowed if 30 min up/downstream are zero
    assert nonwear(stream([5] + [0] * 90 + [5]), nonwear="choi")[1:91].all()
    assert not nonwear(stream([5] + [0] * 89 + [5]), nonwear="choi").any()
    s = [5] + [0] * 40 + [3, 4] + [0] * 50 + [5]
    assert nonwear(stream(s), nonwear="choi")[1:93].all()
    # with the R code's 45-minute stream frame the 40 zeros upstream are too few
    assert not nonwear(stream(s), nonwear="choi", choi_stream_frame=45).any()
    # three non-zero minutes break the window
    assert not nonwear(stream([5] + [0] * 40 + [3, 4, 1] + [0] * 50 + [5]), nonwear="choi").any()


def test_troiano_allowance_and_stop_rule():
    # Troiano et al. 2008: 60 zero minutes, up to 2 consecutive minutes of 1-100 allowed, stop at the 3rd or > 100
    assert nonwear(stream([200] + [0] * 30 + [50, 50] + [0] * 30 + [200]), nonwear="troiano")[1:63].all()
    assert not nonwear(stream([200] + [0] * 30 + [150] + [0] * 30 + [200]), nonwear="troiano").any()
    assert not nonwear(stream([200] + [0] * 30 + [5, 5, 5] + [0] * 30 + [200]), nonwear="troiano").any()


def test_default_rule_keeps_sleep_and_short_dropouts_as_wear():
    steps = [0] * 300
    hr = [58.0 + (i % 3) for i in range(300)]
    hr[100:105] = [np.nan] * 5  # 5-minute dropout while asleep
    hr[200:260] = [np.nan] * 60  # band off for an hour
    nw = nonwear(stream(steps, hr))
    assert not nw[:200].any() and nw[200:260].all() and not nw[260:].any()
    # steps without heart rate: the band is on the wrist
    assert not nonwear(stream([20] * 30, [np.nan] * 30)).any()


def test_duplicate_rule_prefers_complete_record():
    df = stream([10, 0, 7], [80, np.nan, 90])
    dup = pd.DataFrame({"participant_id": ["A", "A", "A"], "ts": df["ts"].iloc[[0, 1, 2]].to_numpy(),
                        "steps": [4, 0, 7], "heart_rate": [81.0, 66.0, 90.0]})
    both = pd.concat([dup, df], ignore_index=True)  # partial copies arrive first
    c = signals.clean_minutes(both, UTC)
    kept = c[~c["flag_duplicate"]].sort_values("ts")
    assert kept["steps"].tolist() == [10, 0, 7]
    assert kept["heart_rate"].tolist()[1] == 66.0  # HR present wins when steps tie
    assert c["flag_conflict"].tolist() == [True, True, False, True, True, False]
    assert c["flag_duplicate"].sum() == 3


def test_plausibility_and_stuck():
    hr = [70.0 + (i % 4) for i in range(40)]
    hr[5] = 250.0
    hr[20:30] = [88.0] * 10
    steps = [10] * 40
    steps[7] = 400
    c = signals.clean_minutes(stream(steps, hr), UTC)
    assert c["flag_hr_implausible"].tolist().index(True) == 5 and c["flag_hr_implausible"].sum() == 1
    assert c["flag_steps_implausible"].sum() == 1 and c["steps_clean"][7] == 0
    assert c["flag_hr_stuck"].sum() == 10 and c["flag_hr_stuck"][20:30].all()
    assert c["heart_rate_clean"][20:30].isna().all() and np.isnan(c["heart_rate_clean"][5])
    nine = stream(steps, hr[:20] + [88.0] * 9 + [70.0] + hr[30:])
    assert not signals.clean_minutes(nine, UTC)["flag_hr_stuck"].any()


def test_cadence_bands_peaks_and_resting_hr():
    steps = [0] * 600 + [10] * 60 + [100] * 30 + [135] * 10 + [0] * 740
    hr = [55.0 + (i % 2) for i in range(1440)]
    d = signals.daily_summary(signals.clean_minutes(stream(steps, hr), SEOUL), SEOUL).iloc[0]
    assert d["steps"] == 600 + 3000 + 1350 and d["wear_minutes"] == 1440 and d["valid_day"]
    assert d["minutes_cadence_0"] == 1340 and d["minutes_cadence_1_19"] == 60
    assert d["minutes_cadence_100_119"] == 30 and d["minutes_cadence_120plus"] == 10
    assert d["moderate_minutes"] == 40 and d["vigorous_minutes"] == 10
    assert d["peak_1min_cadence"] == 135 and d["peak_30min_cadence"] == pytest.approx((10 * 135 + 20 * 100) / 30)
    assert d["resting_hr"] == pytest.approx(55.5, abs=0.01)


def test_matches_pandas_reference():
    people = pd.read_parquet("data_samples/participants.parquet").iloc[:25]
    df = sm.minutes(people, "2023-03-28", 6, seed=5)[["participant_id", "ts", "steps", "heart_rate"]]
    df = df.sample(frac=1.0, random_state=1)  # unsorted input takes the lexsort path
    a, b = signals.clean_minutes(df), R.clean_minutes_pandas(df)
    for c in signals.ADDED_COLUMNS:
        np.testing.assert_array_equal(a[c].to_numpy(float), b[c].to_numpy(float), err_msg=c)
    da, db = signals.daily_summary(a), R.daily_summary_pandas(b)[list(signals.DAILY_COLUMNS)]
    for c in signals.DAILY_COLUMNS:
        np.testing.assert_array_equal(da[c].to_numpy(), db[c].to_numpy(), err_msg=c) if da[c].dtype.kind not in "f" else \
            np.testing.assert_allclose(da[c].to_numpy(float), db[c].to_numpy(float), rtol=1e-9, err_msg=c)


def test_bad_input_messages():
    df = stream([1, 2])
    with pytest.raises(ValueError, match="missing column"):
        signals.clean_minutes(df.drop(columns="heart_rate"))
    with pytest.raises(ValueError, match="timezone-aware"):
        signals.clean_minutes(df.assign(ts=df["ts"].dt.tz_localize(None)))
    with pytest.raises(ValueError, match="nonwear"):
        signals.CleaningConfig(nonwear="magic")
    with pytest.raises(ValueError, match="missing column"):
        signals.daily_summary(df)


def test_process_equals_the_two_calls_and_quality_tables():
    df = sm.minutes(pd.read_parquet("data_samples/participants.parquet").iloc[:12], "2023-03-06", 3, seed=9)
    cleaned, daily = signals.process(df)
    pd.testing.assert_frame_equal(cleaned, signals.clean_minutes(df))
    pd.testing.assert_frame_equal(daily, signals.daily_summary(cleaned))
    q = signals.signal_quality(daily, min_cell=10)
    assert q.rows_in == len(df) and q.rows_quarantined == 0
    assert q.participant_days == len(daily) and 0 <= q.share_valid_days <= 1
    hist = q.wear_histogram()
    assert hist["person_days"].sum(skipna=True) + 0 <= len(daily) and hist["wear_hours_to"].iloc[-1] == 24
    strict = signals.signal_quality(daily, min_cell=13)  # 12 participants: every date suppressed
    assert strict.valid_by_date()["suppressed"].all() and strict.valid_by_date()["valid_share"].isna().all()
    assert "유효일" in q.conclusion("ko") and "valid days" in q.conclusion("en")
    assert set(q.summary()["metric"]) >= {"rows_in", "share_valid_days", "nonwear_share"}
