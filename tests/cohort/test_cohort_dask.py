"""The Dask engine returns the same table as DuckDB over the same Parquet dataset (LocalCluster, 2 processes)."""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import cohort


@pytest.fixture(scope="module")
def dataset(repo_root, tmp_path_factory):
    p = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    d = pd.read_parquet(repo_root / "data_samples" / "daily.parquet")
    folder = tmp_path_factory.mktemp("daily")
    ids = d.participant_id.unique()
    for i in range(4):  # a dataset of several files, as write_daily_parquet makes
        d[d.participant_id.isin(ids[i::4])].to_parquet(folder / f"part-{i:05d}.parquet", index=False)
    return p, folder


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as c:
        yield c


@pytest.mark.parametrize("by", [
    ["week", "district", "age_band", "sex"],
    ["arm", "week_since_enrolment"],
    ["quarter", "wave"],
    [],
])
def test_dask_equals_duckdb(dataset, client, by):
    p, folder = dataset
    metrics = list(cohort.METRICS)
    a = cohort.aggregate(folder, p, by=by, metrics=metrics, step_goal=8000, threshold=10)
    b = cohort.aggregate_dask(folder, p, by=by, metrics=metrics, step_goal=8000, threshold=10, client=client)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


def test_dask_weeks_since_window(dataset, client):
    p, folder = dataset
    kw = dict(by=["sex"], metrics=["participants", "mean_steps", "goal_share"], weeks_since=(0, 23))
    pd.testing.assert_frame_equal(cohort.aggregate(folder, p, **kw), cohort.aggregate_dask(folder, p, client=client, **kw), rtol=1e-9)
