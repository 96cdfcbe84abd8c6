"""The per-batch and per-partition functions; identical on this machine and on Dask workers.

Each takes plain, picklable arguments (the :class:`Layout`, strings, the
cleaning config) and writes only its own files, so tasks never collide.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..signals._config import CleaningConfig
from ..signals._dataset import phase_of, summarise_frame
from ._ledger import path_key, sha256
from ._store import Layout, part_name, read_partition, read_partition_table, remove_file_rows, to_frame, write_parquet, write_parts


@functools.lru_cache(maxsize=4)
def _enrolled(path: str, column: str = "participant_id") -> tuple[str, ...]:
    return tuple(pd.read_parquet(path, columns=[column])[column].astype(str))


ID_FROM_NAME = ("apple_health_xml", "samsung_health_csv", "fitbit_json")
"""Vendor formats whose files carry no participant id; the build takes it from the export's name."""


def ingest_files(layout: Layout, items: list[tuple[str, int, str | None]], read_kwargs: dict[str, Any],
                 config: CleaningConfig | None = None, flush_rows: int = 1_000_000) -> list[dict[str, Any]]:
    """Ingest a batch of exports (``(path, precedence, sha256 or None)`` each) with one reader context;
    per export, write its minutes parts and quarantine file and return what the ledger records.

    Exports are read one at a time (:func:`evaluation.ingest.read_each`) and written together, one part
    per partition for every ``flush_rows`` rows read, so memory is bounded by that (or the largest
    export). ``read_kwargs`` may name ``enrolled`` (a participants Parquet file whose ids are the
    enrolment list) instead of ``participants``. An export that cannot be read
    gives ``{"path", "error"}`` (file name and reason, never row values) and writes nothing.
    Each result names its ``part`` and ``partitions`` ``[[bucket, date, rows], ...]``. With ``config``, it
    carries ``phase``: the clock-offset phase sums of its part in each of those partitions, so a
    partition made only of this build's parts, each participant from one file, needs no second read.
    """
    from .. import ingest

    kwargs = dict(read_kwargs)
    enrolled = kwargs.pop("enrolled", None)
    if enrolled:
        kwargs["participants"] = _enrolled(enrolled)
    meta = {p: (prec, digest) for p, prec, digest in items}

    out: list[dict[str, Any]] = []
    pending: list[tuple[str, dict[str, Any], pd.DataFrame]] = []  # read, not yet written

    def flush() -> None:
        if not pending:
            return
        members = sorted((r["key"], r["sha256"]) for _, r, _ in pending)
        digest = hashlib.sha256("\n".join(f"{k} {h}" for k, h in members).encode()).hexdigest()
        name = part_name(max(r["precedence"] for _, r, _ in pending), "b" + digest[:11], digest[11:])
        by_key, phase = write_parts(layout, [(r["key"], r["precedence"], m) for _, r, m in pending], name, config)
        for _, r, _ in pending:
            r["part"] = name
            r["partitions"] = [[b, d, n] for b, d, n in by_key.get(r["key"], [])]
            if phase is not None:
                r["phase"] = {bd: phase[bd] for bd in {f"{b}/{d}" for b, d, _ in r["partitions"]} if bd in phase}
            out.append(r)
        pending.clear()

    buffered = 0
    reader = ingest.read_each([p for p, _, _ in items], id_from_name=ID_FROM_NAME, **kwargs)
    while True:
        try:
            path, res = next(reader)
        except StopIteration:
            break
        except Exception as exc:  # one bad file must not stop the others; reported in the manifest
            done = {r["path"] for r in out} | {p for p, _, _ in pending}
            path = next(p for p, _, _ in items if p not in done)
            out.append({"path": path, "error": f"{type(exc).__name__}: {exc}"[:2000]})
            flush()
            rest = [it for it in items if it[0] not in done and it[0] != path]
            return out + (ingest_files(layout, rest, read_kwargs, config) if rest else [])
        record = _record(layout, path, *meta[path], res)
        if "error" in record:
            out.append(record)
            continue
        pending.append((path, record, res.minutes))
        buffered += len(res.minutes)
        if buffered >= flush_rows:
            flush()
            buffered = 0
    flush()
    return out


def _record(layout: Layout, path: str, precedence: int, digest: str | None, res: Any) -> dict[str, Any]:
    """The ledger's record of one export read (its quarantine file written), or ``{"path", "error"}``."""
    acc = res.accounting
    if acc.files_failed:  # a file ingest could not read at all: reported, retried next build, nothing written
        code = next(iter(acc.files_failed.values()))
        detail = acc.file_meta.get(next(iter(acc.files_failed)), {}).get("detail", "")
        return {"path": path, "error": f"{code}: {detail}"[:2000]}
    key = path_key(path)
    qfile = layout.quarantine / f"{key}.parquet"
    if len(res.quarantine):
        write_parquet(res.quarantine.astype("string"), qfile)
    else:
        qfile.unlink(missing_ok=True)
    return {
        "path": path, "key": key, "sha256": digest or sha256(Path(path)), "precedence": precedence,
        "rows_in": acc.rows_in, "rows_kept": acc.rows_kept, "rows_quarantined": acc.rows_quarantined,
        "by_reason": {k: int(v) for k, v in acc.by_reason.items()},
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
    # one conversion to Arrow for the run, sliced per date (the daily table is wide: converting per date
    # costs more than writing)
    daily = daily.sort_values("date", kind="stable").reset_index(drop=True)
    table = pa.Table.from_pandas(daily, preserve_index=False)
    day = daily["date"].to_numpy("datetime64[D]")
    for date in dates:
        lo, hi = np.searchsorted(day, np.datetime64(date, "D"), "left"), np.searchsorted(day, np.datetime64(date, "D"), "right")
        path = layout.daily_file(bucket, date)
        if hi > lo:
            write_parquet(table.slice(lo, hi - lo), path)
        else:
            path.unlink(missing_ok=True)
        out.append({"bucket": bucket, "date": date, "participant_days": int(hi - lo)})
    return out
