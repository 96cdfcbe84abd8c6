"""Synthetic minute generator: contract columns, truth mask, levels consistent with synth.daily."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.synth import minutes as sm


@pytest.fixture(scope="module")
def people():
    return pd.read_parquet("data_samples/participants.parquet").iloc[:60]


@pytest.fixture(scope="module")
def df(people):
    return sm.minutes(people, "2023-03-06", 14, seed=7)


def test_contract_columns_and_types(df):
    assert list(df.columns[:4]) == ["participant_id", "ts", "steps", "heart_rate"]
    assert str(df["ts"].dt.tz) == "Asia/Seoul"
    assert df["steps"].dtype.kind == "i" and df["heart_rate"].dtype.kind == "f"
    assert set(df["artefact"].cat.categories) == set(sm.ARTEFACTS)
    assert df["heart_rate"].isna().any()


def test_same_seed_same_data(people):
    a = sm.minutes(people.iloc[:5], days=2, seed=1)
    b = sm.minutes(people.iloc[:5], days=2, seed=1)
    c = sm.minutes(people.iloc[:5], days=2, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["steps"].equals(c["steps"])


def test_truth_mask_semantics(df):
    nw = df["true_nonwear"]
    assert (df.loc[nw, "steps"] == 0).all() and df.loc[nw, "heart_rate"].isna().all()
    # sleep hours: mostly worn with heart rate and no steps
    t = df["ts"] + pd.to_timedelta(np.where(df["true_clock_offset"], 540, 0), unit="min")
    night = (t.dt.hour >= 2) & (t.dt.hour < 5) & ~nw
    assert df.loc[night, "heart_rate"].notna().mean() > 0.95
    assert (df.loc[night, "steps"] == 0).mean() > 0.99
    spikes = df["artefact"] == "step_spike"
    assert (df.loc[spikes, "steps"] > 250).all() and (df.loc[spikes, "true_steps"] <= 250).all()
    bad = df["artefact"] == "implausible_hr"
    assert ((df.loc[bad, "heart_rate"] < 30) | (df.loc[bad, "heart_rate"] > 220)).all()
    stuck = df[df["artefact"] == "stuck_hr"]
    assert stuck.groupby("participant_id", observed=True)["heart_rate"].nunique().min() >= 1
    # every artefact class and a sync gap are present
    assert (df["artefact"].value_counts() > 0).all()
    assert (df["true_gap_before"] > 0).sum() > 10


def test_daily_levels_match_habitual_steps(df, people):
    truth = sm.truth_daily(df)
    full = truth[truth["true_wear_minutes"] >= 1300].merge(
        people[["participant_id", "habitual_steps"]], on="participant_id"
    )
    ratio = full["true_steps"].sum() / full["habitual_steps"].sum()
    # weekday/season factors and non-wear keep a full-wear day near the habitual level
    assert 0.85 < ratio < 1.15
    per_person = full.groupby("participant_id")[["true_steps", "habitual_steps"]].mean()
    assert np.corrcoef(per_person["true_steps"], per_person["habitual_steps"])[0, 1] > 0.8


def test_write_minutes_sample(tmp_path, people):
    people.to_parquet(tmp_path / "participants.parquet")
    path = sm.write_minutes_sample(tmp_path, n=3, days=2)
    back = pd.read_parquet(path)
    assert back["participant_id"].nunique() == 3 and len(back) > 2 * 1440 * 3 * 0.9


def test_empty_participants_rejected(people):
    with pytest.raises(ValueError, match="empty"):
        sm.minutes(people.iloc[:0])


def test_committed_sample_regenerates_exactly(tmp_path):
    import shutil

    shutil.copy("data_samples/participants.parquet", tmp_path / "participants.parquet")
    fresh = pd.read_parquet(sm.write_minutes_sample(tmp_path))
    committed = pd.read_parquet("data_samples/minutes_sample.parquet")
    pd.testing.assert_frame_equal(fresh, committed)
