"""Samsung Health CSV exports -> minutes.

Built from the documented layout (no real export is public; see
``tests/data/README.md``): line 1 is metadata (``<data type>,<version>,<n>``),
line 2 the header, with dotted column names (``com.samsung.health.step_count.start_time``, or bare
``start_time`` in some files), rows often end with a trailing comma. Columns are matched by their
last dotted part.

* ``com.samsung.shealth.tracker.pedometer_step_count`` (``start_time``, ``end_time``, ``count``):
  step intervals, allocated to minutes by the shared proportional rule;
* ``com.samsung.shealth.tracker.heart_rate`` (``start_time``, ``heart_rate``): each row's heart rate
  goes to the minute of its ``start_time`` (a row is one measurement or one bin's mean; spreading it
  over its bin would invent minute-level detail). When the row's ``binning_data`` file is in the
  export (``jsons/<data type>/<first char>/<name>``), its per-bin values replace the row;
* ``com.samsung.shealth.step_daily_trend`` and ``...tracker.pedometer_day_summary`` (always in a
  "Download personal data" folder): day totals only -> ``daily_total_only``, kept apart (not an error);
* ``com.samsung.shealth.alerted_heart_rate``: the watch's high / low heart-rate alert episodes ->
  ``alert_episode``, kept apart (reading them as samples would bias minute means upwards);
* other data types (weight, sleep, exercise maxima ...) -> ``non_step_record``.

Data types are matched by their full name (``data_kind``), not by a substring. A file that cannot be
read, or whose header lacks the columns its type needs (``unrecognised_layout``), is skipped and named
in ``notes``; the rest of the folder is read. Only a folder none of whose files can be read is refused.

Time zone: Samsung stores instants as UTC and renders ``start_time`` in UTC; ``time_offset``
(``UTC+0900``) is the owner's zone at the time. ``clock="utc"`` (default) reads ``start_time`` as
UTC; ``clock="local"`` reads it as wall clock at ``time_offset`` (for re-saved files). Either way
the instant is shown in Asia/Seoul.

Duplicates: rows of one kind with the same start and end instants (several devices, or re-synced
copies) keep the row with the latest ``update_time`` (``duplicate_older_update``); remaining overlaps
between devices are resolved per minute by the shared priority (device with more steps first).
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ._common import (
    MAX_SPAN_NS, VendorFileError, VendorFrame, _add, allocate_steps, assemble, count_reasons, empty_frame,
    minute_heart_rate, read_text, reason_notes,
)

_OFFSET = re.compile(r"^\s*(?:UTC|GMT)?\s*([+-])(\d{2}):?(\d{2})\s*$")
_STAMP = re.compile(r"\.(\d{12}(?:\d{2})?)\.csv(?:\.gz)?$", re.I)


def export_stamp(files: list[Path]) -> pd.Timestamp | None:
    """When the export was made, from the files' names (``<data type>.<YYYYMMDDhhmm[ss]>.csv``, the
    phone's clock at export); the latest stamp, read as UTC (checks allow a day's slack)."""
    out = []
    for f in files:
        m = _STAMP.search(Path(f).name)
        if m:
            t = pd.to_datetime(m.group(1), format="%Y%m%d%H%M%S" if len(m.group(1)) == 14 else "%Y%m%d%H%M",
                               errors="coerce")
            if not pd.isna(t):
                out.append(t.tz_localize("UTC"))
    return max(out) if out else None


def _col(df: pd.DataFrame, suffix: str) -> pd.Series | None:
    for c in df.columns:
        if c == suffix or str(c).endswith("." + suffix):
            return df[c]
    return None


_SET_APART = {
    "daily_total_only": "day totals only (step_daily_trend / pedometer_day_summary), not placed in minutes",
    "alert_episode": "high / low heart-rate alert episodes (alerted_heart_rate), not routine samples",
}


def data_kind(dtype: str) -> str | None:
    """What a Samsung data type holds: ``"steps"`` (step intervals), ``"hr"`` (heart-rate samples),
    a reason code of records kept apart (``daily_total_only``, ``alert_episode``), or ``None`` (other
    data: weight, sleep, exercise ...). By the type's full name, not a substring such as
    "pedometer" or "heart_rate", which day summaries, alerts and exercise maxima share."""
    last = dtype.strip().lower().rsplit(".", 2)
    name = ".".join(last[-2:]) if len(last) >= 2 else dtype.lower()
    if name in ("tracker.pedometer_step_count", "health.step_count"):
        return "steps"
    if name in ("tracker.heart_rate", "health.heart_rate"):
        return "hr"
    if name.endswith(("step_daily_trend", "pedometer_day_summary")):
        return "daily_total_only"
    if name.endswith("alerted_heart_rate"):
        return "alert_episode"
    return None


def parse_offset(raw: pd.Series) -> np.ndarray:
    """``UTC+0900`` -> +32400 (seconds); NaN when unparseable."""
    # an export holds a handful of distinct offsets: parse each once, not each row
    codes, uniques = pd.factorize(raw.astype(object).where(raw.notna(), "").astype(str))
    m = pd.Series(uniques, dtype=object).str.extract(_OFFSET)
    sign = np.where((m[0] == "-").fillna(False).to_numpy(bool), -1.0, 1.0)
    per = sign * (pd.to_numeric(m[1], errors="coerce").to_numpy(float) * 3600
                  + pd.to_numeric(m[2], errors="coerce").to_numpy(float) * 60)
    return per[codes] if len(per) else np.full(len(codes), np.nan)


def _load(path: Path) -> tuple[str, pd.DataFrame]:
    text = read_text(path)
    lines = text.split("\n", 2)
    if len(lines) < 2 or not lines[0].startswith("com.samsung."):
        raise VendorFileError(path, "line 1", "no Samsung Health metadata line (com.samsung.<type>,<version>,<n>)")
    dtype = lines[0].split(",")[0].strip()
    if not lines[1].strip():
        raise VendorFileError(path, "line 2", "header line is empty")
    try:
        df = pd.read_csv(io.StringIO(text), skiprows=1, dtype=str, keep_default_na=False, na_values=[""],
                         index_col=False)
    except pd.errors.ParserError as exc:
        msg = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + 1}", str(exc).strip())
        raise VendorFileError(path, None, f"CSV is malformed ({msg})") from None
    df = df.loc[:, [c for c in df.columns if not str(c).startswith("Unnamed:")]]
    return dtype, df


def _binning_file(csv_file: str, dtype: str, name: str) -> Path | None:
    """Where a row's ``binning_data`` JSON lives: ``<export>/jsons/<data type>/<first char>/<name>``."""
    base = Path(csv_file).parent / "jsons" / dtype
    for p in (base / name[:1] / name, base / name):
        if p.is_file():
            return p
    return None


def _heart_rate_samples(r: pd.DataFrame, rows: np.ndarray, start: np.ndarray,
                        v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(row index, time ns, bpm) samples: a row's own value at its start, or, when its ``binning_data``
    file is in the export, the per-bin values (``start_time`` epoch ms, ``heart_rate``) that Galaxy
    watches write for continuous measurement. Layout from public importers of Samsung exports; a
    file that is missing or unreadable falls back to the row's own value."""
    out_r, out_t, out_v = [rows], [start[rows]], [v[rows]]
    keep = np.ones(len(rows), bool)
    n_binned = 0
    names = r["binning"].to_numpy(dtype=object)
    for k, i in enumerate(rows):
        name = names[i]
        if not isinstance(name, str) or not name.strip():
            continue
        p = _binning_file(r["file"].iat[i], r["dtype"].iat[i], name.strip())
        if p is None:
            continue
        try:
            bins = json.loads(p.read_text(encoding="utf-8"))
            t = np.array([b["start_time"] for b in bins], dtype=np.float64)
            bpm = np.array([b.get("heart_rate", np.nan) for b in bins], dtype=np.float64)
        except (ValueError, TypeError, KeyError, OSError):
            continue
        good = np.isfinite(t) & np.isfinite(bpm) & (bpm > 0)
        if not good.any():
            continue
        keep[k] = False
        n_binned += 1
        out_r.append(np.full(int(good.sum()), i))
        out_t.append((t[good] * 1_000_000).astype(np.int64))
        out_v.append(bpm[good])
    out_r[0], out_t[0], out_v[0] = rows[keep], start[rows][keep], v[rows][keep]
    return (np.concatenate(out_r).astype(np.int64), np.concatenate(out_t).astype(np.int64),
            np.concatenate(out_v).astype(np.float64), n_binned)


def read_many(files: list[Path], *, participant_id: str,
              clock: Literal["utc", "local"] = "utc") -> VendorFrame:
    """Read one or more Samsung Health CSVs of one participant together (dedup spans files)."""
    if clock not in ("utc", "local"):
        raise ValueError("clock must be 'utc' or 'local'")
    parts = []
    dropped: dict[str, int] = {}
    notes: list[str] = []
    records_in = 0
    skipped: list[VendorFileError] = []
    for path in files:
        try:
            dtype, df = _load(Path(path))
        except VendorFileError as exc:
            # one damaged file does not cost the folder its other files (it is named in notes)
            skipped.append(exc)
            notes.append(f"{Path(path).name}: file skipped ({exc.where + ': ' if exc.where else ''}{exc.problem})")
            continue
        n = len(df)
        records_in += n
        kind = data_kind(dtype)
        if kind in _SET_APART:
            _add(dropped, kind, n)
            notes.append(f"{Path(path).name}: {_SET_APART[kind]} ({n} rows), kept apart from the minutes")
            continue
        if kind is None:
            _add(dropped, "non_step_record", n)
            continue
        value = _col(df, "heart_rate" if kind == "hr" else "count")
        start = _col(df, "start_time")
        if value is None or start is None:
            _add(dropped, "unrecognised_layout", n)
            notes.append(f"{Path(path).name}, line 2: header lacks start_time or "
                         f"{'heart_rate' if kind == 'hr' else 'count'}; its {n} rows skipped, the folder goes on")
            continue
        end = _col(df, "end_time")
        empty = pd.Series([None] * n, index=df.index, dtype=object)
        parts.append(pd.DataFrame({
            "kind": kind, "file": str(path), "line": np.arange(n) + 3,
            "start": start, "end": end if end is not None else empty,
            "offset": _col(df, "time_offset") if _col(df, "time_offset") is not None else empty,
            "value": value, "update": _col(df, "update_time") if _col(df, "update_time") is not None else empty,
            "device": _col(df, "deviceuuid") if _col(df, "deviceuuid") is not None else empty,
            "binning": _col(df, "binning_data") if _col(df, "binning_data") is not None else empty,
            "dtype": dtype,
        }))
    if skipped and len(skipped) == len(files):
        raise skipped[0]
    stamp = export_stamp(files)
    if not parts:
        return VendorFrame(empty_frame(), records_in, dropped, notes, 0, "samsung_health_csv", export_time=stamp).check()
    r = pd.concat(parts, ignore_index=True)
    n = len(r)
    reason = np.full(n, "", dtype=object)
    t0 = pd.to_datetime(r["start"], format="ISO8601", errors="coerce")
    t1 = pd.to_datetime(r["end"], format="ISO8601", errors="coerce")
    t1 = t1.where(r["end"].notna(), t0)  # heart-rate rows may have no end
    off = parse_offset(r["offset"].fillna(""))
    reason[r["start"].isna().to_numpy()] = "missing_field"
    reason[(reason == "") & (t0.isna() | t1.isna()).to_numpy()] = "unparseable_date"
    if clock == "local":
        reason[(reason == "") & ~np.isfinite(off)] = "unparseable_date"
    start = t0.to_numpy("datetime64[ns]").view(np.int64)
    end = t1.to_numpy("datetime64[ns]").view(np.int64)
    if clock == "local":
        shift = (np.nan_to_num(off) * 1e9).astype(np.int64)
        start, end = start - shift, end - shift
    v = pd.to_numeric(r["value"], errors="coerce").to_numpy(float)
    reason[(reason == "") & r["value"].isna().to_numpy()] = "missing_field"
    reason[(reason == "") & ~np.isfinite(v)] = "unparseable_value"
    reason[(reason == "") & (v < 0)] = "negative_value"
    reason[(reason == "") & (end < start)] = "end_before_start"
    hr = (r["kind"] == "hr").to_numpy()
    reason[(reason == "") & ~hr & (end - start > MAX_SPAN_NS)] = "span_too_long"
    ok = reason == ""
    # same interval reported more than once: keep the latest update_time (ties: the later row)
    upd = pd.to_datetime(r["update"], format="ISO8601", errors="coerce").fillna(pd.Timestamp.min)
    order = pd.DataFrame({"k": r["kind"], "s": start, "e": end, "u": upd, "i": np.arange(n)})[ok]
    order = order.sort_values(["k", "s", "e", "u", "i"])
    older = order.duplicated(["k", "s", "e"], keep="last")
    reason[order.index[older.to_numpy()]] = "duplicate_older_update"
    ok = reason == ""
    notes += reason_notes(reason, lambda i: f"{Path(r['file'].iat[i]).name} line {r['line'].iat[i]}",
                          skip=("duplicate_older_update",))

    dev = r["device"].fillna("unknown").to_numpy(dtype=object)
    codes, devices = pd.factorize(dev)
    weight = np.bincount(codes[ok & ~hr], weights=v[ok & ~hr], minlength=len(devices))
    order_d = sorted(range(len(devices)), key=lambda i: (-weight[i], i))
    rank_of = np.empty(len(devices), np.int64)
    rank_of[order_d] = np.arange(len(devices))
    rank = rank_of[codes]
    labels = {int(rank_of[i]): f"samsung_health:device{int(rank_of[i]) + 1}" for i in range(len(devices))}
    zero = np.zeros(n, np.int64)
    s = ok & ~hr
    steps, used_s, lost = allocate_steps(zero[s], start[s], end[s], v[s], rank[s])
    h = np.flatnonzero(ok & hr)
    row, t_hr, v_hr, n_binned = _heart_rate_samples(r, h, start, v)
    if n_binned:
        notes.append(f"{n_binned:,} heart-rate rows replaced by their per-bin values (jsons/ binning files)")
    hrm, used_samples = minute_heart_rate(np.zeros(len(row), np.int64), t_hr, v_hr, rank[row])
    used_h = np.bincount(row[used_samples], minlength=n)[h] > 0
    for code, cnt in count_reasons(reason).items():
        _add(dropped, code, cnt)
    _add(dropped, "overlap_lower_priority", int((~used_s).sum() + (~used_h).sum()))
    finite_steps = ~hr & np.isfinite(v)
    steps_dropped = {c: float(v[finite_steps & (reason == c)].sum()) for c in count_reasons(reason[finite_steps])}
    steps_dropped["overlap_lower_priority"] = lost
    frac = float((v[s] - np.rint(v[s])).sum())
    if frac:
        steps_dropped["fractional_count"] = frac
    if len(devices) > 1:
        notes.append(f"{len(devices)} devices; labels device1.. by steps, largest first")
    frame = assemble(steps, hrm, [participant_id], labels)
    return VendorFrame(frame, records_in, dropped, notes, int(used_s.sum() + used_h.sum()), "samsung_health_csv",
                       float(v[finite_steps].sum()), steps_dropped, stamp).check()
