"""The per-file and per-partition functions; identical on this machine and on Dask workers.

Each takes plain, picklable arguments (the :class:`Layout`, strings, the
cleaning config) and writes only its own files, so tasks never collide.
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..signals._config import CleaningConfig
from ..signals._dataset import phase_of, summarise_frame
from ._ledger import path_key
from ._store import Layout, part_name, read_partition, read_partition_table, to_frame, write_parquet, write_parts


@functools.lru_cache(maxsize=4)
def _enrolled(path: str, column: str = "participant_id") -> tuple[str, ...]:
    return tuple(pd.read_parquet(path, columns=[column])[column].astype(str))


ID_FROM_NAME = ("apple_health_xml", "samsung_health_csv", "fitbit_json")
"""Vendor formats whose files carry no participant id; the build takes it from the export's name."""


def ingest_file(layout: Layout, path: str, sha256: str, precedence: int, read_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Read one export with :func:`evaluation.ingest.read_exports` and write its parts and quarantine.

    ``read_kwargs`` may name ``enrolled`` (a participants Parquet file) instead of a
    ``participants`` list. A file that cannot be read returns ``{"error": ...}``
    (file name and reason; never row values) and writes nothing.
    """
    from .. import ingest

    kwargs = dict(read_kwargs)
    enrolled = kwargs.pop("enrolled", None)
    if enrolled:
        kwargs["participants"] = _enrolled(enrolled)
    key = path_key(path)
    try:
        if "participant_id" not in kwargs and ingest.detect_format(path) in ID_FROM_NAME:
            # these exports carry no participant id: the unit is named by it (exports/<vendor>/<id>[.ext])
            kwargs["participant_id"] = Path(path).name.split(".")[0]
        res = ingest.read_exports([path], **kwargs)
    except Exception as exc:  # one bad file must not stop the others; reported in the manifest
        return {"path": path, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    acc = res.accounting
    if acc.files_failed:  # a file ingest could not read at all: reported, retried next build, nothing written
        code = next(iter(acc.files_failed.values()))
        detail = acc.file_meta.get(next(iter(acc.files_failed)), {}).get("detail", "")
        return {"path": path, "error": f"{code}: {detail}"[:2000]}
    parts = write_parts(layout, res.minutes, part_name(precedence, key, sha256))
    qfile = layout.quarantine / f"{key}.parquet"
    if len(res.quarantine):
        write_parquet(res.quarantine.astype("string"), qfile)
    else:
        qfile.unlink(missing_ok=True)
    return {
        "path": path, "precedence": precedence, "rows_in": acc.rows_in, "rows_kept": acc.rows_kept,
        "rows_quarantined": acc.rows_quarantined, "by_reason": {k: int(v) for k, v in acc.by_reason.items()},
        "partitions": [[b, d, n] for b, d, n in parts],
        "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def phase_partition(layout: Layout, bucket: str, date: str, config: CleaningConfig) -> dict[str, Any]:
    """Rows, superseded rows and the clock-offset phase sums of one minutes partition."""
    df, stored, superseded = read_partition(layout, bucket, date)
    phase = phase_of(df, config)
    phase.insert(0, "date", date)
    return {"bucket": bucket, "date": date, "rows": stored, "superseded": superseded, "phase": phase}


def _shift(date: str, k: int) -> str:
    return str(np.datetime64(date, "D") + k)


def daily_partition(layout: Layout, bucket: str, dates: list[str], config: CleaningConfig, offsets: list[str]) -> list[dict[str, Any]]:
    """Daily rows of a run of consecutive dates of one bucket, from their minutes and the halo (the day
    before and after); writes ``daily/<bucket>/<date>.parquet`` per date (or removes it when no
    participant-day remains). One date at a time gives the same files; a run reads each partition
    once instead of three times."""
    frames = [read_partition_table(layout, bucket, _shift(dates[0], k))[0] for k in range(-1, len(dates) + 1)]
    df = to_frame(frames)
    daily = summarise_frame(df, dates, config, set(offsets))
    out = []
    by_date = dict(tuple(daily.groupby(daily["date"].dt.strftime("%Y-%m-%d"), sort=False))) if len(daily) else {}
    for date in dates:
        part = by_date.get(date)
        path = layout.daily_file(bucket, date)
        if part is not None and len(part):
            write_parquet(part.reset_index(drop=True), path)
        else:
            path.unlink(missing_ok=True)
        out.append({"bucket": bucket, "date": date, "participant_days": 0 if part is None else len(part)})
    return out


def remove_parts(layout: Layout, name: str, partitions: list[list[Any]]) -> None:
    """Delete one export file's parts (before it is ingested again, changed)."""
    for b, d, _ in partitions:
        f = layout.minutes_dir(b, d) / name
        f.unlink(missing_ok=True)
        try:
            f.parent.rmdir()  # only succeeds when empty
        except OSError:
            pass


