"""Results store: Parquet tables of a run, queried with DuckDB."""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import cohort
from evaluation.publish import report, results_store as store


@pytest.fixture(scope="module")
def table(repo_root):
    p = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    d = pd.read_parquet(repo_root / "data_samples" / "daily.parquet")
    return cohort.aggregate(d, p, by=["month", "district"], metrics=["participants", "mean_steps"])


def test_save_query_roundtrip(tmp_path, table):
    store.save(tmp_path, "steps_by_month", table)
    assert store.tables(tmp_path) == ["steps_by_month"]
    back = store.load(tmp_path, "steps_by_month")
    pd.testing.assert_frame_equal(back, table, check_dtype=False, check_categorical=False)
    q = store.query(tmp_path, "SELECT district, sum(estimate) AS people FROM steps_by_month "
                              "WHERE metric = 'participants' AND month = ? GROUP BY district ORDER BY district",
                    [pd.Timestamp("2023-03-01")])
    ref = table[(table.metric == "participants") & (table.month == "2023-03-01")].groupby("district").estimate.sum()
    assert q.set_index("district").people.to_dict() == pytest.approx(ref.to_dict())


def test_recorder_tables_are_queryable(tmp_path, table):
    rec = report.Recorder(tmp_path, notebook="30_cohort_engagement")
    rec.table("steps_by_month", table)
    rec.table("other", pd.DataFrame({"x": [1, 2]}))
    assert store.query(tmp_path, "SELECT count(*) AS k FROM other").k.iloc[0] == 2


def test_refuses_unsafe_tables(tmp_path, table):
    with pytest.raises(ValueError, match="participant-level"):
        store.save(tmp_path, "bad", pd.DataFrame({"participant_id": ["a"], "n": [20]}))
    with pytest.raises(ValueError, match="not suppressed"):
        store.save(tmp_path, "bad", pd.DataFrame({"n": [3], "estimate": [1.0]}))
    with pytest.raises(ValueError, match="SQL view name"):
        store.save(tmp_path, "bad name", table)
    with pytest.raises(FileNotFoundError):
        store.query(tmp_path / "empty", "SELECT 1")
    with pytest.raises(FileNotFoundError, match="no table"):
        store.load(tmp_path, "missing")
