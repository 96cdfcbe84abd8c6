"""Partitioned Parquet datasets: the same per-partition function streamed on one machine or on Dask.

Layout of a minutes dataset (written by :func:`write_partitioned`)::

    root/bucket=07/date=2023-03-06/part-0.parquet

``bucket`` is a stable hash of the participant id (``crc32 % n_buckets``) and
``date`` the labelled local date. A task summarises one (bucket, date): it reads
that partition and, as a halo, the same bucket's previous and next dates, so
rules that need context across midnight (non-wear and stuck runs, gaps, the
clock-offset shift of up to 9 h, the resting-HR window) see it; only the
task's own date is kept. Runs longer than a day are still recognised because
any run longer than the halo already exceeds every rule's frame. The one rule
that looks at a participant's whole export, the clock-offset phase, is pooled
per participant in a first light pass (:func:`participant_phase`) so every
task applies the same decision as the in-memory path.

Peak memory per task is three partitions, whatever the cohort size.
"""
from __future__ import annotations

import zlib
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ._clean import check_minutes, clean_minutes, local_minutes
from ._config import DEFAULT, CleaningConfig
from ._daily import daily_summary
from ._kernels import COS as _COS, SIN as _SIN


def bucket_of(ids: Iterable[str], n_buckets: int) -> np.ndarray:
    """Stable participant bucket (crc32 of the id modulo ``n_buckets``)."""
    ids = pd.Series(ids)
    if isinstance(ids.dtype, pd.CategoricalDtype) and not ids.isna().any():  # each category's string once, not each row's
        codes, uniques = ids.cat.codes.to_numpy(), ids.cat.categories.astype(str)
    else:
        codes, uniques = pd.factorize(ids.astype(str))
    b = np.array([zlib.crc32(u.encode("utf-8")) % n_buckets for u in uniques], dtype=np.int32)
    return b[codes]


def write_partitioned(minutes: pd.DataFrame, root: str | Path, n_buckets: int = 16, config: CleaningConfig = DEFAULT) -> Path:
    """Write minutes as ``root/bucket=BB/date=YYYY-MM-DD/part-0.parquet``; returns ``root``.

    Appends ``part-<k>`` when a partition already holds files, so exports can be
    added day by day.
    """
    check_minutes(minutes)
    root = Path(root)
    day = local_minutes(minutes["ts"], config.tz) // 1440
    bucket = bucket_of(minutes["participant_id"], n_buckets)
    keys = pd.DataFrame({"b": bucket, "d": day})
    for (b, d), idx in keys.groupby(["b", "d"]).indices.items():
        folder = root / f"bucket={b:02d}" / f"date={_date(d)}"
        folder.mkdir(parents=True, exist_ok=True)
        k = len(list(folder.glob("part-*.parquet")))
        part = minutes.iloc[idx]
        if isinstance(part["participant_id"].dtype, pd.CategoricalDtype):
            part = part.assign(participant_id=part["participant_id"].cat.remove_unused_categories())
        part.to_parquet(folder / f"part-{k}.parquet", index=False)
    return root


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def partitions(root: str | Path) -> list[tuple[str, str]]:
    """Sorted (bucket, date) keys present under ``root``."""
    root = Path(root)
    keys = []
    for b in sorted(root.glob("bucket=*")):
        for d in sorted(b.glob("date=*")):
            keys.append((b.name.split("=", 1)[1], d.name.split("=", 1)[1]))
    return keys


def _read(root: Path, bucket: str, date: str) -> pd.DataFrame | None:
    folder = root / f"bucket={bucket}" / f"date={date}"
    files = sorted(folder.glob("part-*.parquet"))
    if not files:
        return None
    parts = [pd.read_parquet(f) for f in files]
    for p in parts:  # categorical ids differ between files: compare as strings
        p["participant_id"] = p["participant_id"].astype(str)
    return pd.concat(parts, ignore_index=True)


def phase_of(df: pd.DataFrame, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """Per participant of ``df`` (one partition's minutes): step-weighted sums of cos/sin of the time of day
    (``x``, ``y``) and total steps (``s``); every participant present gets a row (zeros without steps).

    The pooled statistic behind the clock-offset rule (same as the kernel's:
    plausible steps > 0 on non-duplicate minutes; duplicates count once here too).
    Partition-local: duplicates share a minute, so they share a partition.
    """
    if df is None or not len(df):
        return pd.DataFrame({"participant_id": pd.Series([], dtype=object), "x": [], "y": [], "s": []})
    out = phase_by_day(df, config)
    if out["date"].nunique() > 1:
        out = out.groupby("participant_id", sort=True)[["x", "y", "s"]].sum().reset_index()
    else:
        out = out.drop(columns="date")
    return out.sort_values("participant_id", kind="stable").reset_index(drop=True)


def phase_by_day(df: pd.DataFrame, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """:func:`phase_of` per (local date, participant) of minutes spanning any number of days, in one pass:
    columns ``date`` (``YYYY-MM-DD``), ``participant_id``, ``x``, ``y``, ``s``, sorted by date then id.

    Every input to the statistic is local to one participant-minute (the plausibility of a value,
    and duplicates, which share their minute), so the rows of one (date, participant) give the same
    sums here as :func:`phase_of` on that date's partition alone, in the same order of addition.
    """
    c = clean_minutes(df, replace(config, detect_clock_offset=False))
    steps = c["steps_clean"].to_numpy()
    use = ~c["flag_duplicate"].to_numpy() & (steps > 0)
    t = local_minutes(c["ts"], config.tz)
    s = np.where(use, steps, 0).astype(float)
    m = t % 1440
    cos, sin = _COS[m], _SIN[m]  # the kernel's tables: a gather instead of a cos and a sin per row
    pcodes, labels = pd.factorize(c["participant_id"], sort=True)
    day = t // 1440
    d0 = int(day.min())
    n_days = int(day.max()) - d0 + 1
    # one code per (day, participant): days outer, so the output comes sorted by date then id
    full = (day - d0) * len(labels) + pcodes
    if n_days * len(labels) <= 4 * len(full) + 1024:
        # dense bins, then the ones present: no hashing of a million codes
        k = n_days * len(labels)
        combos = np.flatnonzero(np.bincount(full, minlength=k))
        x, y, tot = (np.bincount(full, w, k)[combos] for w in (s * cos, s * sin, s))
    else:
        codes, combos = pd.factorize(full, sort=True)
        k = len(combos)
        x, y, tot = (np.bincount(codes, w, k) for w in (s * cos, s * sin, s))
    labels = np.asarray(labels).astype(str)
    dates = np.datetime_as_string(np.arange(d0, d0 + n_days).astype("datetime64[D]"))
    return pd.DataFrame({"date": dates[combos // len(labels)], "participant_id": labels[combos % len(labels)],
                         "x": x, "y": y, "s": tot})


def participant_phase(root: str | Path, bucket: str, config: CleaningConfig = DEFAULT) -> pd.DataFrame:
    """Per participant of a bucket: :func:`phase_of` pooled over every date of the bucket."""
    root = Path(root)
    rows = [phase_of(_read(root, b, d), config) for b, d in partitions(root) if b == bucket]
    if not rows:
        return pd.DataFrame(columns=["x", "y", "s"])
    return pd.concat(rows).groupby("participant_id")[["x", "y", "s"]].sum()


def offset_participants(phase: pd.DataFrame, config: CleaningConfig = DEFAULT) -> set[str]:
    """Participants whose pooled activity phase says "clock offset" (same rule as the kernel)."""
    if not config.detect_clock_offset or phase.empty:
        return set()
    ph = np.arctan2(phase["y"], phase["x"]) / (2 * np.pi) * 1440.0
    d = (ph - config.expected_activity_phase_h * 60.0).abs() % 1440.0
    d = np.minimum(d, 1440.0 - d)
    flagged = (phase["s"] >= config.clock_offset_min_steps) & (d > config.clock_offset_threshold_h * 60.0)
    return set(phase.index[flagged])


def summarise_partition(root: str | Path, bucket: str, date: str, config: CleaningConfig = DEFAULT,
                        offsets: set[str] | None = None) -> pd.DataFrame:
    """Daily summaries of one (bucket, date) partition, using the neighbouring dates as a halo.

    ``offsets``: participants with a clock offset (from :func:`offset_participants`);
    ``None`` lets the kernel decide from the three days read.
    """
    root = Path(root)
    day = np.datetime64(date, "D")
    frames = [f for f in (_read(root, bucket, _date(int((day + k).astype(np.int64)))) for k in (-1, 0, 1)) if f is not None]
    return summarise_frame(pd.concat(frames, ignore_index=True) if frames else None, date, config, offsets)


def summarise_frame(df: pd.DataFrame | None, date: str | list[str], config: CleaningConfig = DEFAULT,
                    offsets: set[str] | None = None) -> pd.DataFrame:
    """Daily rows of ``date`` (one date or a list of consecutive dates) from minutes of those dates and
    their neighbours (the halo: the day before the first and after the last), already concatenated.

    ``offsets``: participants with a clock offset (pooled decision); ``None`` lets the kernel decide.
    Reading a run of dates with one halo gives the same rows as one date at a time (any rule run
    that reaches past the halo is longer than every rule's frame).
    """
    dates = [date] if isinstance(date, str) else list(date)
    if df is None or not len(df):
        return daily_summary(clean_minutes(_empty()), config)
    if offsets is not None:
        cleaned = clean_minutes(df, replace(config, detect_clock_offset=False))
        pid = cleaned["participant_id"]
        if isinstance(pid.dtype, pd.CategoricalDtype):
            cleaned["flag_clock_offset"] = pid.cat.categories.astype(str).isin(offsets)[pid.cat.codes.to_numpy()]
        else:
            cleaned["flag_clock_offset"] = pid.astype(str).isin(offsets).to_numpy()
    else:
        cleaned = clean_minutes(df, config)
    daily = daily_summary(cleaned, config)
    return daily[daily["date"].isin(pd.to_datetime(dates))].reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"participant_id": pd.Series([], dtype=object), "ts": pd.Series([], dtype="datetime64[ns, Asia/Seoul]"),
                         "steps": pd.Series([], dtype=np.int32), "heart_rate": pd.Series([], dtype=np.float32)})


def _task(root: str, bucket: str, date: str, out: str, config: CleaningConfig, offsets: set[str] | None) -> int:
    daily = summarise_partition(root, bucket, date, config, offsets)
    if len(daily):
        daily.to_parquet(Path(out) / f"daily-b{bucket}-{date}.parquet", index=False)
    return len(daily)


def _offsets_for_bucket(root: str, bucket: str, config: CleaningConfig) -> set[str]:
    return offset_participants(participant_phase(root, bucket, config), config)


def summarise_dataset(root: str | Path, out: str | Path, config: CleaningConfig = DEFAULT, *, progress: bool = True) -> pd.DataFrame:
    """Stream every partition of a minutes dataset on this machine; write and return the daily table.

    Files: ``out/daily-b<bucket>-<date>.parquet``. Memory stays at a few
    partitions; ``progress`` shows a tqdm bar over partitions.
    """
    from tqdm.auto import tqdm

    root, out = Path(root), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keys = partitions(root)
    offsets: dict[str, set[str]] = {}
    for b, d in tqdm(keys, desc="daily summaries", unit="partition", disable=not progress):
        if b not in offsets:
            offsets[b] = _offsets_for_bucket(str(root), b, config)
        _task(str(root), b, d, str(out), config, offsets[b])
    return read_daily(out)


def summarise_dataset_dask(root: str | Path, out: str | Path, config: CleaningConfig = DEFAULT, *,
                           client=None, address: str | None = None, progress: bool = True) -> pd.DataFrame:
    """The same per-partition function on Dask distributed; write and return the daily table.

    ``client``: an existing ``dask.distributed.Client``; else ``address`` of a
    scheduler; else a ``LocalCluster`` of 2 single-threaded worker processes is
    started for the call and closed afterwards. ``root``/``out`` must be paths
    the workers can reach (shared or object storage on a real cluster).
    """
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    root, out = Path(root).resolve(), Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    own = client is None
    cluster = None
    if own:
        if address:
            client = Client(address)
        else:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
    try:
        keys = partitions(root)
        buckets = sorted({b for b, _ in keys})
        off_futs = dict(zip(buckets, client.map(_offsets_for_bucket, [str(root)] * len(buckets), buckets, config=config, pure=False)))
        futs = [client.submit(_task, str(root), b, d, str(out), config, off_futs[b], pure=False) for b, d in keys]
        for f in tqdm(as_completed(futs), total=len(futs), desc="daily summaries (dask)", unit="partition", disable=not progress):
            f.result()
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    return read_daily(out)


def read_daily(out: str | Path) -> pd.DataFrame:
    """All ``daily-*.parquet`` files of ``out``, sorted by participant and date."""
    files = sorted(Path(out).glob("daily-*.parquet"))
    if not files:
        return daily_summary(clean_minutes(_empty()))
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return df.sort_values(["participant_id", "date"], kind="stable").reset_index(drop=True)
