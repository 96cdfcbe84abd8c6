"""Incremental build: from scratch = in memory; a re-run rewrites nothing; a new day and a re-synced
past day recompute only their partitions and give the from-scratch store; Dask = local, row for row."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import store as build, ingest, signals
from evaluation.runs import params
from evaluation.synth import exports as sx

READ = {"demo": True, "pseudonymise_ids": False}
START, DAYS = "2023-03-13", 4
OLD = 1_600_000_000_000_000_000  # a fixed past mtime (ns) for the first exports


@pytest.fixture(scope="module")
def raw(tmp_path_factory, repo_root):
    """Synthetic band exports (one folder per day) for 10 people over 4 days, with clock offsets."""
    root = tmp_path_factory.mktemp("raw")
    people = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    cohort = sx.sample(people, per_wave=2, comparison=2, seed=5)
    rates = sx.RATES.__class__(clock_offset_share=0.3, dup_identical=0.003)
    sx.write_exports(cohort, root / "exports", start=START, days=DAYS, truth=root / "truth", rates=rates, block=5)
    for f in (root / "exports").rglob("*.csv"):
        os.utime(f, ns=(OLD, OLD))
    return root / "exports"


def _copy(src: Path, dst: Path, skip_day: str | None = None) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(skip_day) if skip_day else None)  # copy2 keeps mtimes
    return dst


def _snapshot(store: Path) -> dict[str, tuple[int, str]]:
    return {str(f.relative_to(store)): (f.stat().st_mtime_ns, hashlib.sha256(f.read_bytes()).hexdigest())
            for f in store.rglob("*") if f.is_file() and f.name not in ("manifest.json", ".lock")}


def _daily_files(store: Path) -> dict[str, int]:
    return {str(f.relative_to(store)): f.stat().st_mtime_ns for f in (store / "daily").rglob("*.parquet")}


def _in_memory(exports: Path) -> pd.DataFrame:
    m = ingest.read_exports(exports, **READ).minutes
    return signals.daily_summary(signals.clean_minutes(m)).sort_values(["participant_id", "date"]).reset_index(drop=True)


def test_from_scratch_equals_in_memory_and_rerun_rewrites_nothing(raw, tmp_path):
    store = tmp_path / "store"
    first = build.build_store(raw, store, n_buckets=3, read_kwargs=READ)
    expected = _in_memory(raw)
    assert expected["n_clock_offset"].gt(0).any() and expected["n_duplicate"].gt(0).any()
    pd.testing.assert_frame_equal(build.read_daily(store), expected, check_dtype=False)
    # the daily folder reads as one table with pandas and with DuckDB (no partition columns added)
    import duckdb

    assert list(pd.read_parquet(store / "daily").columns) == list(signals.DAILY_COLUMNS)
    n = duckdb.sql(f"select count(*) from read_parquet('{store}/daily/**/*.parquet')").fetchall()[0][0]
    assert n == len(expected) == first.participant_days
    m = build.manifest(store)["rows"]
    assert m["balanced"] and m["rows_in"] == first.rows_in == m["rows_kept"] + m["rows_quarantined"] > 0
    assert first.files_new == len(list(raw.rglob("*.csv"))) and first.daily_partitions > 0

    before = _snapshot(store)
    again = build.build_store(raw, store, n_buckets=3, read_kwargs=READ)
    assert not again.changed_anything and again.files_unchanged == first.files_new
    assert _snapshot(store) == before  # no file rewritten: same mtimes and hashes
    touched = next(raw.rglob("*.csv"))
    os.utime(touched, ns=(OLD + 10**9, OLD + 10**9))  # same content, new mtime: ledger only, no ingest
    third = build.build_store(raw, store, n_buckets=3, read_kwargs=READ)
    assert third.files_new == third.files_changed == third.daily_partitions == 0
    os.utime(touched, ns=(OLD, OLD))


def test_adding_a_day_recomputes_only_its_neighbourhood(raw, tmp_path):
    last = str(np.datetime64(START) + DAYS - 1)
    exports = _copy(raw, tmp_path / "exports", skip_day=last)
    store = tmp_path / "store"
    build.build_store(exports, store, n_buckets=3, read_kwargs=READ)
    old = _daily_files(store)
    shutil.copytree(raw / "band" / last, exports / "band" / last)
    res = build.build_store(exports, store, n_buckets=3, read_kwargs=READ)
    assert res.files_new == len(list((raw / "band" / last).glob("*.csv"))) and res.files_changed == 0
    new = _daily_files(store)
    rewritten = {Path(k).stem for k in new if old.get(k) != new[k]}
    assert rewritten and rewritten <= {str(np.datetime64(last) + k) for k in (-1, 0, 1)}
    unchanged_days = {Path(k).stem for k in new} - rewritten
    assert str(np.datetime64(START)) in unchanged_days
    scratch = build.build_store(exports, tmp_path / "scratch", n_buckets=3, read_kwargs=READ)
    pd.testing.assert_frame_equal(build.read_daily(store), build.read_daily(scratch.store))


def _resync(raw: Path, exports: Path, day: str) -> tuple[str, Path]:
    """A re-synced export of one participant's day: more steps in the busy minutes, written later."""
    minutes = ingest.read_exports(raw, **READ).minutes
    local = minutes["ts"].dt.strftime("%Y-%m-%d")
    truth = pd.read_parquet(raw.parent / "truth" / "daily_truth.parquet")
    ids = minutes["participant_id"].astype(str)
    # a participant without a clock offset, so the re-sync cannot move the offset decision
    offset_ids = set(signals.clean_minutes(minutes).query("flag_clock_offset")["participant_id"].astype(str))
    who = sorted(set(truth["participant_id"].astype(str)) - offset_ids)[0]
    rows = minutes[(ids == who).to_numpy() & (local == day).to_numpy()].copy()
    busy = rows["steps"] > 20
    rows.loc[busy, "steps"] = rows.loc[busy, "steps"] + 7
    path = sx.band_csv(rows, exports / "band" / day / "resync.csv")
    return who, path


def test_resync_of_a_past_day_changes_only_that_participants_days(raw, tmp_path):
    exports = _copy(raw, tmp_path / "exports")
    store = tmp_path / "store"
    build.build_store(exports, store, n_buckets=3, read_kwargs=READ)
    before, old_files = build.read_daily(store), _daily_files(store)
    day = str(np.datetime64(START) + 1)
    who, _ = _resync(raw, exports, day)
    res = build.build_store(exports, store, n_buckets=3, read_kwargs=READ)
    assert res.files_new == 1 and res.rows_superseded > 0 and res.daily_partitions <= 3
    bucket = build.Layout(store, 3).bucket(signals.bucket_of([who], 3)[0])
    rewritten = {k for k, v in _daily_files(store).items() if old_files.get(k) != v}
    assert rewritten <= {f"daily/{bucket}/{np.datetime64(day) + k}.parquet" for k in (-1, 0, 1)}
    after = build.read_daily(store)
    changed = before.merge(after, how="outer", indicator=True).query("_merge != 'both'")
    assert set(changed["participant_id"]) == {who}
    assert set(changed["date"].dt.strftime("%Y-%m-%d")) == {day}
    row = lambda df: df[(df.participant_id == who) & (df.date == day)]
    assert int(row(after)["steps"].iloc[0]) > int(row(before)["steps"].iloc[0])
    # the same files built from scratch give the same store: the newer export wins either way
    scratch = build.build_store(exports, tmp_path / "scratch", n_buckets=3, read_kwargs=READ)
    pd.testing.assert_frame_equal(after, build.read_daily(scratch.store))
    assert scratch.rows_superseded == res.rows_superseded


def test_changed_and_bad_files(raw, tmp_path):
    exports = _copy(raw, tmp_path / "exports")
    store = tmp_path / "store"
    build.build_store(exports, store, n_buckets=3, read_kwargs=READ)
    victim = sorted(exports.rglob("*.csv"))[3]
    df = pd.read_csv(victim)
    df.iloc[: len(df) // 2].to_csv(victim, index=False)  # the platform re-exported a shorter file
    (exports / "band" / "broken.csv").write_text("who,when\nx,y\n")
    res = build.build_store(exports, store, n_buckets=3, read_kwargs=READ)
    assert res.files_changed == 1 and list(res.files_failed) == [str((exports / "band" / "broken.csv").resolve())]
    assert "column" in res.files_failed[str((exports / "band" / "broken.csv").resolve())]
    (exports / "band" / "broken.csv").unlink()
    scratch = build.build_store(exports, tmp_path / "scratch", n_buckets=3, read_kwargs=READ)
    pd.testing.assert_frame_equal(build.read_daily(store), build.read_daily(scratch.store))
    assert res.rows_kept == scratch.rows_kept  # the old version's rows are gone from the accounting


def test_dask_local_cluster_equals_local_row_for_row(raw, tmp_path):
    from dask.distributed import Client, LocalCluster

    local = build.build_store(raw, tmp_path / "local", n_buckets=3, read_kwargs=READ)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        dask = build.build_store(raw, tmp_path / "dask", n_buckets=3, read_kwargs=READ, client=client)
        assert dask.manifest["where"].startswith("dask (2 workers)")
    a, b = build.read_daily(local.store), build.read_daily(dask.store)
    assert len(a) == local.participant_days > 0
    pd.testing.assert_frame_equal(a, b)
    files = lambda s: sorted(str(f.relative_to(s)) for f in (s / "daily").rglob("*.parquet"))
    assert files(local.store) == files(dask.store)


def _phase_state(store: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f).assign(bucket=f.stem) for f in sorted((store / "state").glob("phase-*.parquet"))],
                     ignore_index=True)


def test_batched_parts_and_fused_phase_equal_a_part_per_file_read_back(raw, tmp_path, monkeypatch):
    """One ingest batch writes one part per partition (files tagged per row) and hands its phase sums
    to the build; many small batches without the hand-over must give the same phase sums, bit for bit,
    and the same daily store -- including a re-synced file that shares a part with the file it supersedes."""
    exports = _copy(raw, tmp_path / "exports")
    _resync(raw, exports, str(np.datetime64(START) + 2))
    one = build.build_store(exports, tmp_path / "one", n_buckets=3, read_kwargs=READ)
    assert one.rows_superseded > 0 and len(one.manifest["by_file"]) == len(list(exports.rglob("*.csv")))
    parts = {f.name for f in (tmp_path / "one" / "minutes").rglob("*.parquet")}
    assert len(parts) == 1  # every file of the (small) build in one batch: one part name in every partition
    p = one.manifest["partitions"]
    assert 1 <= p["minutes_read_back"] <= 3 < p["minutes_recomputed"]  # only the re-synced participant's partition(s)

    from evaluation.store import _build

    monkeypatch.setattr(_build, "FUSE_PHASE", False)
    real = _build._batches
    monkeypatch.setattr(_build, "_batches", lambda items, sizes, slots: real(items, sizes, slots, max_files=2))
    many = build.build_store(exports, tmp_path / "many", n_buckets=3, read_kwargs=READ)
    assert len({f.name for f in (tmp_path / "many" / "minutes").rglob("*.parquet")}) > 5
    assert many.manifest["partitions"]["minutes_read_back"] == many.manifest["partitions"]["minutes_recomputed"]
    pd.testing.assert_frame_equal(_phase_state(tmp_path / "one"), _phase_state(tmp_path / "many"), check_exact=True)
    pd.testing.assert_frame_equal(build.read_daily(one.store), build.read_daily(many.store))
    assert (one.rows_superseded, one.rows_kept) == (many.rows_superseded, many.rows_kept)


def test_params_build_section_is_strict(tmp_path, repo_root):
    import yaml

    cfg = yaml.safe_load((repo_root / "params" / "demo.yaml").read_text())
    cfg["build"]["unknown_key"] = 1
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    with pytest.raises(params.ParamsError, match="unknown key 'build.unknown_key'"):
        params.load(path, base_dir=repo_root)
    del cfg["build"]["unknown_key"]
    cfg["build"]["cleaning"] = {"nonwear_minutes": 5}
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    with pytest.raises(params.ParamsError, match="nonwear_minutes"):
        params.load(path, base_dir=repo_root)


def test_cli_build_exit_codes_and_params_section(raw, tmp_path, capsys):
    import yaml

    from evaluation import cli

    exports = _copy(raw, tmp_path / "exports")
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()  # a project folder: relative paths resolve against it (evaluation.params)
    cfg = {"programme": "t", "notebooks": [{"path": "notebooks/none.ipynb"}],
           "build": {"exports": "exports", "store": "store", "n_buckets": 3, "demo": True, "pseudonymise_ids": False,
                     "cleaning": {"valid_day_minutes": 480}}}
    path = tmp_path / "params" / "p.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["build", str(path), "--quiet"]) == 0
    assert "participant-days" in capsys.readouterr().out
    m = build.manifest(tmp_path / "store")
    assert m["cleaning"]["valid_day_minutes"] == 480 and m["files"]["new"] > 0
    (exports / "band" / "broken.csv").write_text("who,when\nx,y\n")
    assert cli.main(["build", str(path), "--quiet"]) == 1  # reported, the rest of the store stays usable
    cfg["build"]["n_buckets"] = 5
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(build.StoreError, match="n_buckets"):
        build.build(path)
    assert cli.main(["build", str(path), "--quiet"]) == 2
    assert "n_buckets" in capsys.readouterr().err


def test_own_devices_go_to_vendor_writers(tmp_path, repo_root, monkeypatch):
    """Own-device participants get one vendor export each (written by ingest.vendors) and no band rows."""
    from evaluation.ingest import vendors

    calls = []
    real = vendors.write_synthetic

    def write_synthetic(fmt, minutes, path, *, participant_id, **kw):
        calls.append((fmt, participant_id))
        assert set(minutes["participant_id"].astype(str)) == {participant_id}
        return real(fmt, minutes, path, participant_id=participant_id, **kw)

    monkeypatch.setattr(vendors, "write_synthetic", write_synthetic)
    people = pd.read_parquet(repo_root / "data_samples" / "participants.parquet")
    cohort = sx.sample(people, per_wave=3, comparison=2, seed=1, waves=[1])
    own = set(cohort.loc[cohort["arm"].astype(str) == "own_device", "participant_id"].astype(str))
    assert own
    out = sx.write_exports(cohort, tmp_path / "exports", start=START, days=2, truth=tmp_path / "truth",
                           formats=["band_csv", "samsung_health_csv"])
    assert out["formats"]["samsung_health_csv"] == len(own) == len(calls)
    band_ids = set(ingest.read_exports(tmp_path / "exports" / "band", **READ).minutes["participant_id"].astype(str))
    assert not band_ids & own and band_ids | own == set(cohort["participant_id"].astype(str))
    # the build reads each own-device export as one unit named by the participant
    res = build.build_store(tmp_path / "exports", tmp_path / "store", n_buckets=2, read_kwargs=READ)
    assert not res.files_failed
    daily_ids = set(build.read_daily(res.store)["participant_id"].astype(str))
    assert own <= daily_ids
    again = sx.write_exports(cohort, tmp_path / "exports", start=START, days=2, truth=tmp_path / "truth",
                             formats=["band_csv", "samsung_health_csv"])
    assert not again["written"] and len(calls) == len(own)  # written once
