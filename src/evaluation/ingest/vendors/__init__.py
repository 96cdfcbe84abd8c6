"""Readers for the exports own-device participants bring (Apple Health, Samsung Health, Fitbit,
Fitabase, Garmin FIT, Google Fit Takeout), each onto the minutes contract with a ``source`` column.

* :data:`FORMATS` -- the format names;
* :func:`detect_format` -- a file's (or folder's) format from its content, ``None`` when it is none of these;
* :func:`read_vendor` -- one file or folder -> :class:`VendorFrame` (raw participant ids; the caller
  pseudonymises);
* :func:`group_exports` -- files -> what to read: Fitbit / Samsung files grouped by folder;
* :func:`combine` -- several frames of one participant (e.g. a Fitbit steps file and its heart-rate
  file) -> one row per participant-minute;
* :func:`write_synthetic` -- minutes -> a realistic export, for tests and the demo.

The minute rules (step allocation, source priority, heart-rate means) are in ``_common``'s docstring;
each reader's module docstring states its own rules.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Literal

import numpy as np
import pandas as pd

from ._common import REASONS, VendorFileError, VendorFrame, empty_frame
from ._detect import describe_unsupported, detect_format
from ._synthetic import write_synthetic

FORMATS = ("apple_health_xml", "samsung_health_csv", "fitbit_json", "fitabase_csv", "garmin_fit", "google_fit_csv")
Format = Literal["apple_health_xml", "samsung_health_csv", "fitbit_json", "fitabase_csv", "garmin_fit", "google_fit_csv"]
SUFFIXES = (".xml", ".xml.gz", ".zip", ".json", ".json.gz", ".fit", ".csv", ".csv.gz")
"""File name endings worth passing to :func:`detect_format` when walking a folder (detection itself is by content)."""
_NEEDS_ID = {"apple_health_xml", "samsung_health_csv", "fitbit_json", "google_fit_csv"}

__all__ = ["FORMATS", "GROUPED", "REASONS", "SUFFIXES", "VendorFileError", "VendorFrame", "combine", "describe_unsupported", "detect_format",
           "group_exports", "read_vendor",
           "write_synthetic"]


def read_vendor(path: str | Path, fmt: Format | str, *, participant_id: str | None = None,
                source_tz: str = "Asia/Seoul", **options: Any) -> VendorFrame:
    """Read one vendor export file (or a folder of them) onto the minutes contract.

    ``participant_id`` (raw) is required for formats whose files carry no id (Apple, Samsung, Fitbit);
    Fitabase files carry an ``Id`` column; a Garmin FIT file falls back to its device serial number.
    ``source_tz`` is the zone of naive local times (Fitbit, Fitabase); formats with offsets ignore it.
    ``options`` go to the reader (e.g. ``clock="local"`` for Samsung).
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown vendor format {fmt!r}; expected one of {FORMATS}")
    if not path.exists():
        raise VendorFileError(path, None, "no such file or folder")
    if fmt in _NEEDS_ID and not participant_id:
        raise VendorFileError(path, None, f"{fmt} files carry no participant id: pass participant_id=")
    if path.is_dir():
        # direct children only: an export folder holds one participant's files (sub-folders may be others')
        files = [p for p in sorted(path.iterdir()) if p.is_file() and detect_format(p) == fmt]
        if not files:
            raise VendorFileError(path, None, f"folder holds no {fmt} files")
        if fmt == "samsung_health_csv":
            from . import samsung
            return samsung.read_many(files, participant_id=participant_id, **options)
        if fmt == "fitbit_json":
            from . import fitbit
            return fitbit.read_many(files, participant_id=participant_id, source_tz=source_tz, **options)
        return combine([read_vendor(p, fmt, participant_id=participant_id, source_tz=source_tz, **options)
                        for p in files])
    if fmt == "apple_health_xml":
        from . import apple
        return apple.read(path, participant_id=participant_id, **options)
    if fmt == "samsung_health_csv":
        from . import samsung
        return samsung.read_many([path], participant_id=participant_id, **options)
    if fmt == "fitbit_json":
        from . import fitbit
        return fitbit.read(path, participant_id=participant_id, source_tz=source_tz, **options)
    if fmt == "google_fit_csv":
        from . import google_fit
        return google_fit.read(path, participant_id=participant_id, **options)
    if fmt == "fitabase_csv":
        from . import fitabase
        if participant_id is not None:
            raise VendorFileError(path, None, "Fitabase files carry their own Id column; do not pass participant_id")
        return fitabase.read(path, source_tz=source_tz, **options)
    from . import garmin
    return garmin.read(path, participant_id=participant_id, **options)


GROUPED = ("fitbit_json", "samsung_health_csv", "google_fit_csv")
"""Formats whose export is a folder of files read together (steps and heart rate in separate files;
Samsung duplicates across files)."""


def group_exports(files: Iterable[str | Path]) -> list[tuple[Path, str | None]]:
    """Units to read, in order: ``(file, format)`` for single-file formats (``None`` = not a vendor
    file), and ``(folder, format)`` once per folder for Fitbit and Samsung files, so that
    ``read_vendor(folder, format)`` joins a day's steps and heart-rate files into one row per minute
    (reading them one by one would give each minute twice)."""
    out: list[tuple[Path, str | None]] = []
    seen: set[tuple[Path, str]] = set()
    for f in map(Path, files):
        if _samsung_binning(f):
            continue  # read with its Samsung export folder (samsung._binning_file), not on its own
        fmt = detect_format(f)
        if fmt in GROUPED:
            key = (f.parent, fmt)
            if key not in seen:
                seen.add(key)
                out.append(key)
        else:
            out.append((f, fmt))
    return out


def _samsung_binning(f: Path) -> bool:
    """A ``jsons/com.samsung.../<x>/<name>.json`` binning file inside a Samsung Health export."""
    parts = f.parts
    return f.name.lower().endswith(".json") and "jsons" in parts and any(p.startswith("com.samsung.") for p in parts)


def _joined_sources(gid: np.ndarray, source: pd.Series, n_groups: int) -> np.ndarray:
    """Per group: its distinct non-missing sources in order of appearance, joined by "+".

    Vectorised (a Python function per participant-minute took ~90 us, a minute of a demo build); only
    minutes with several sources are joined in Python.
    """
    out = np.full(n_groups, "", dtype=object)
    gid = np.nan_to_num(np.asarray(gid, dtype=float), nan=-1).astype(np.int64)  # rows of dropped (missing) keys: -1
    valid = source.notna().to_numpy() & (gid >= 0)
    t = pd.DataFrame({"g": gid[valid], "s": source.to_numpy(dtype=object)[valid]}).drop_duplicates()
    t = t.sort_values("g", kind="stable")  # stable: first appearances stay in the frame's order
    counts = t["g"].value_counts(sort=False)
    single = t["g"].map(counts).to_numpy() == 1
    out[t["g"].to_numpy()[single]] = t["s"].to_numpy()[single]
    multi = t[~single]
    if len(multi):
        joined = multi.groupby("g", sort=False)["s"].agg("+".join)
        out[joined.index.to_numpy()] = joined.to_numpy()
    return out


def combine(frames: list[VendorFrame]) -> VendorFrame:
    """Merge frames (e.g. a day's steps file and heart-rate file) into one row per participant-minute.

    A value present in several frames for the same minute keeps the first frame's value (frames are
    taken in the order given); such conflicts are counted in ``notes``.
    """
    if not frames:
        return VendorFrame(empty_frame(), 0, {}, [], 0)
    if len(frames) == 1:
        return frames[0]
    all_ = pd.concat([f.frame.assign(_order=i) for i, f in enumerate(frames)], ignore_index=True)
    notes = [n for f in frames for n in f.notes]
    ordered = all_.sort_values("_order", kind="stable")
    g = ordered.groupby(["participant_id", "ts"], sort=True)
    conflicts = int((g["steps"].count() > 1).sum() + (g["heart_rate"].count() > 1).sum())
    out = g.agg(steps=("steps", "first"), heart_rate=("heart_rate", "first")).reset_index()
    out["source"] = _joined_sources(g.ngroup().to_numpy(), ordered["source"], g.ngroups)
    if conflicts:
        notes.append(f"{conflicts} minute values present in more than one file; the first file's value kept")
    dropped: dict[str, int] = {}
    steps_dropped: dict[str, float] = {}
    for f in frames:
        for k, v in f.dropped.items():
            dropped[k] = dropped.get(k, 0) + v
        for k, v in f.steps_dropped.items():
            steps_dropped[k] = steps_dropped.get(k, 0.0) + v
    out["steps"] = out["steps"].astype("float64")
    lost = float(sum(f.frame["steps"].sum() for f in frames) - out["steps"].sum())
    if lost > 1e-9:
        steps_dropped["duplicate_minute_other_file"] = steps_dropped.get("duplicate_minute_other_file", 0.0) + lost
    out["heart_rate"] = out["heart_rate"].astype("float64")
    fmt = "+".join(dict.fromkeys(f.format for f in frames))
    stamps = [f.export_time for f in frames if f.export_time is not None]
    return VendorFrame(out[["participant_id", "ts", "steps", "heart_rate", "source"]], sum(f.records_in for f in frames),
                       dropped, list(dict.fromkeys(notes)), sum(f.records_used for f in frames), fmt,
                       float(np.sum([f.steps_in for f in frames])), steps_dropped,
                       max(stamps) if stamps else None).check()
