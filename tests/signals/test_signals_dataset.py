"""Partitioned datasets: streaming and Dask (LocalCluster, 2 worker processes) give the in-memory answer."""
from __future__ import annotations

import pandas as pd
import pytest

from evaluation import signals
from evaluation.synth import minutes as sm


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    people = pd.read_parquet("data_samples/participants.parquet").iloc[:24]
    df = sm.minutes(people, "2023-01-29", 5, seed=3, rates=sm.MinuteRates(clock_offset_share=0.25))
    df = df[["participant_id", "ts", "steps", "heart_rate"]]
    root = signals.write_partitioned(df, tmp_path_factory.mktemp("minutes"), n_buckets=4)
    expected = signals.daily_summary(signals.clean_minutes(df))
    return df, root, expected.sort_values(["participant_id", "date"]).reset_index(drop=True)


def test_layout(dataset):
    df, root, _ = dataset
    keys = signals.partitions(root)
    assert {b for b, _ in keys} <= {"00", "01", "02", "03"}
    assert {d for _, d in keys} >= {"2023-01-31", "2023-02-01"}  # month boundary inside the range
    back = pd.concat(pd.read_parquet(p) for p in root.rglob("*.parquet"))
    assert len(back) == len(df)


def test_streaming_equals_in_memory(dataset, tmp_path):
    df, root, expected = dataset
    got = signals.summarise_dataset(root, tmp_path / "daily", progress=False)
    assert expected["n_clock_offset"].gt(0).any()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_dask_local_cluster_equals_in_memory(dataset, tmp_path):
    from dask.distributed import Client, LocalCluster

    df, root, expected = dataset
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = signals.summarise_dataset_dask(root, tmp_path / "daily", client=client, progress=False)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    n_files = len(list((tmp_path / "daily").glob("daily-*.parquet")))
    assert 0 < n_files <= len(signals.partitions(root))  # a partition whose rows all move to the next day writes none
