"""What every vendor reader shares: the result object, the file error, opening (gz / zip aware),
and the two rules that turn records into minutes.

Minute rules (the same for every format, so sources compare):

* **Step allocation** -- a record covering ``[start, end)`` gives each minute it overlaps a share of
  its count proportional to the overlap in seconds (``value * overlap / (end - start)``); a
  zero-length record goes wholly to the minute containing ``start``. Shares are whole steps by
  largest-remainder rounding *within the record* (each share floored, the units left over go to the
  largest fractional parts, ties to the earlier minute), so a record's shares sum exactly to its
  count and totals are conserved through the minutes contract's integer steps (rounding each minute
  on its own drifted: 359,979 against 359,942 on a real export). A record whose count is not whole
  is conserved to its nearest whole number; the fractions are counted under ``fractional_count``.
* **Source priority, per minute** -- when records from several sources cover the same minute, only
  the best-ranked source is kept for that minute (rank = tier, then the source's total in the file,
  larger first, then name); the others' share of that minute is dropped. A record none of whose
  minutes survive is counted under ``overlap_lower_priority``.
* **Heart rate** -- samples are averaged per minute (the minute containing the sample time), again
  keeping only the best-ranked source of that minute.
"""
from __future__ import annotations

import gzip
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterator

import numpy as np
import pandas as pd

TZ = "Asia/Seoul"
MINUTE_NS = 60_000_000_000
COLUMNS = ("participant_id", "ts", "steps", "heart_rate", "source")
MAX_SPAN_NS = (24 * 60 + 1) * MINUTE_NS
"""A record longer than a day (plus a minute) is not a step sample but a summary: dropped as ``span_too_long``."""

REASONS: dict[str, str] = {
    "non_step_record": "record is neither steps nor heart rate (distance, sleep, diet ...)",
    "manual_entry": "entered by hand (HKWasUserEntered); not device data",
    "unparseable_date": "start or end time cannot be parsed",
    "nonexistent_local_time": "local time falls in a daylight-saving gap of the declared zone",
    "ambiguous_local_time": "local time is repeated at a daylight-saving change of the declared zone",
    "unparseable_value": "value is not a finite number",
    "negative_value": "value is negative",
    "unexpected_unit": "unit is not the expected one (count for steps, count/min for heart rate)",
    "end_before_start": "record ends before it starts",
    "span_too_long": "record spans more than a day (a summary, not a sample)",
    "duplicate_record": "exact copy of another record (same source, times and value)",
    "duplicate_older_update": "same interval reported again with a later update_time; the older copy is dropped",
    "overlap_lower_priority": "all of the record's minutes are covered by a higher-priority source",
    "daily_summary": "device-written daily total, not an interval (Garmin duration_min messages)",
    "non_step_activity": "cumulative cycles of an activity that is not walking or running",
    "missing_field": "a required field is empty or absent",
    "invalid_id": "participant id holds control characters (NUL ...): damaged, never merged with another id",
    "wrong_field_count": "line has more or fewer fields than the header",
    "daily_total_only": "a day's total without a time profile cannot be placed in minutes",
    "alert_episode": "a high / low heart-rate alert episode (Samsung alerted_heart_rate), not a routine sample",
    "unrecognised_layout": "file of a known data type whose header lacks the needed columns; skipped, named in notes",
    "after_export_date": "dated after the export was made (a wrong device clock, e.g. 2030); quarantined",
    "activity_file_record": "a record of an activity (workout) FIT file that is not heart rate or steps",
}
"""Reason codes for records a reader does not use (``VendorFrame.dropped``)."""


class VendorFileError(ValueError):
    """A vendor export that cannot be read at all. Names the file and, where known, the line or record;
    never a participant identifier."""

    def __init__(self, file: str | Path, where: str | None, problem: str):
        self.file, self.where, self.problem = str(file), where, problem
        super().__init__(f"{self.file}" + (f", {where}" if where else "") + f": {problem}")


@dataclass
class VendorFrame:
    """One vendor file (or folder) on the minutes contract.

    ``frame``: participant_id (raw), ts (Asia/Seoul minute start), steps (float, NaN = no record),
    heart_rate (float bpm, NaN = none), source. ``records_in == records_used + sum(dropped.values())``.
    """

    frame: pd.DataFrame
    records_in: int
    dropped: dict[str, int]
    notes: list[str]
    records_used: int = 0
    format: str = ""
    steps_in: float = 0.0
    """Steps in all step records read (before dedup)."""
    steps_dropped: dict[str, float] = field(default_factory=dict)
    """Steps not in ``frame``, by reason (``overlap_lower_priority`` includes partial overlaps)."""
    export_time: pd.Timestamp | None = None
    """When the export was made (UTC), where the file says so (Apple ``ExportDate``, the Samsung file
    name's stamp, a FIT file's ``time_created``); minutes more than a day later are quarantined."""

    def check(self) -> "VendorFrame":
        total = self.records_used + sum(self.dropped.values())
        if total != self.records_in:
            raise AssertionError(f"record accounting broken: {self.records_in} in != {self.records_used} used + "
                                 f"{sum(self.dropped.values())} dropped")
        return self

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Tidy table: one row per outcome (``used`` and each reason) with records and steps."""
        rows = [("used", self.records_used, float(self.frame["steps"].sum()))]
        rows += [(k, v, float(self.steps_dropped.get(k, 0.0))) for k, v in sorted(self.dropped.items())]
        for k, v in self.steps_dropped.items():
            if k not in self.dropped:
                rows.append((k, 0, float(v)))
        df = pd.DataFrame(rows, columns=["outcome", "records", "steps"])
        df["share_of_records"] = df["records"] / self.records_in if self.records_in else np.nan
        return df

    def summary(self) -> str:
        """Short Korean/English text for a notebook."""
        f = self.frame
        span = f"{f['ts'].min()} .. {f['ts'].max()}" if len(f) else "-"
        return (f"{self.format}: 레코드 {self.records_in:,}건 중 {self.records_used:,}건 사용 / "
                f"records in {self.records_in:,}, used {self.records_used:,}, dropped {dict(self.dropped)}; "
                f"분 {len(f):,} minutes ({span}); steps {f['steps'].sum():,.0f} of {self.steps_in:,.0f} read")


# -- opening files -----------------------------------------------------------------------------

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def head_bytes(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` (decompressed) bytes of a plain, gzip or zip file; b"" when unreadable."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(n)
        if raw.startswith(GZIP_MAGIC):
            with gzip.open(path, "rb") as fh:
                return fh.read(n)
        if raw.startswith(ZIP_MAGIC):
            member = _zip_member(path)
            if member is None:
                return b""
            with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
                return fh.read(n)
        return raw
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile):
        return b""


def _zip_member(path: Path) -> str | None:
    """The Health export inside an Apple ``export.zip`` (``export.xml``, or ``내보내기.xml`` on Korean
    phones): the largest .xml that is not the clinical-document ``export_cda.xml``."""
    with zipfile.ZipFile(path) as zf:
        xml = [i for i in zf.infolist() if i.filename.lower().endswith(".xml") and "cda" not in i.filename.lower()]
        return max(xml, key=lambda i: i.file_size).filename if xml else None


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """Open a plain, .gz or .zip file for streaming reads; damage is reported as :class:`VendorFileError`."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise VendorFileError(path, None, f"cannot open ({exc.strerror})") from None
    try:
        if magic.startswith(GZIP_MAGIC):
            with gzip.open(path, "rb") as fh:
                yield fh
        elif magic.startswith(ZIP_MAGIC):
            member = _zip_member(path)
            if member is None:
                raise VendorFileError(path, None, "zip archive holds no .xml export")
            with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
                yield fh
        else:
            with open(path, "rb") as fh:
                yield fh
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise VendorFileError(path, None, f"compressed file is cut short or damaged ({type(exc).__name__})") from None


def read_text(path: Path, encodings: tuple[str, ...] = ("utf-8-sig", "cp949")) -> str:
    """Whole (decompressed) text of a small file, trying UTF-8 (with or without BOM) then CP949."""
    with open_binary(path) as fh:
        data = fh.read()
    for enc in encodings:
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            err = exc
    line = data[: err.start].count(b"\n") + 1
    raise VendorFileError(path, f"line {line}", f"text is neither {' nor '.join(encodings)}")


# -- records -> minutes --------------------------------------------------------------------------

def _add(d: dict[str, int], key: str, n: int) -> None:
    if n:
        d[key] = d.get(key, 0) + int(n)


def allocate_steps(group: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray,
                   rank: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, float]:
    """Spread step records over minutes and keep the best-ranked source per (group, minute).

    ``start``/``end`` int64 ns (end exclusive), ``value`` steps, ``rank`` int (lower wins),
    ``group`` int participant code. Returns (minutes table ``group, minute, steps, rank``, a
    boolean mask of records that kept at least one minute, steps dropped by priority).
    """
    n_rec = len(start)
    if n_rec == 0:
        return pd.DataFrame({"group": [], "minute": [], "steps": [], "rank": []}), np.zeros(0, bool), 0.0
    m0 = start // MINUTE_NS
    m1 = np.maximum(end - 1, start) // MINUTE_NS
    n = (m1 - m0 + 1).astype(np.int64)
    rec = np.repeat(np.arange(n_rec), n)
    first = np.repeat(np.cumsum(n) - n, n)
    minute = m0[rec] + (np.arange(len(rec)) - first)
    lo = np.maximum(start[rec], minute * MINUTE_NS)
    hi = np.minimum(end[rec], (minute + 1) * MINUTE_NS)
    dur = (end - start)[rec]
    share = np.where(dur > 0, (hi - lo) / np.where(dur > 0, dur, 1), 1.0)
    alloc = pd.DataFrame({"group": group[rec], "minute": minute, "steps": whole_shares(rec, value[rec] * share, value),
                          "rank": rank[rec], "rec": rec})
    best = alloc.groupby(["group", "minute"], sort=False)["rank"].transform("min").to_numpy()
    keep = alloc["rank"].to_numpy() == best
    dropped_steps = float(alloc["steps"].to_numpy()[~keep].sum())
    kept = alloc[keep]
    used = np.zeros(n_rec, bool)
    used[kept["rec"].to_numpy()] = True
    out = kept.groupby(["group", "minute"], sort=True).agg(steps=("steps", "sum"), rank=("rank", "first")).reset_index()
    return out, used, dropped_steps


def whole_shares(rec: np.ndarray, share: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding of each record's shares (``rec`` sorted, as ``allocate_steps`` builds
    it): whole steps summing to ``round(value[rec])`` per record; ties go to the earlier share."""
    if len(rec) == 0:
        return share.astype(np.float64)
    total = np.rint(value)
    floor = np.floor(share + 1e-9)  # 29.999999999 from the division is 30
    rem = share - floor
    left = (total - np.bincount(rec, weights=floor, minlength=len(value))).astype(np.int64)
    # position of each share within its record when ordered by remainder, largest first
    order = np.lexsort((np.arange(len(rec)), -rem, rec))
    first = np.searchsorted(rec[order], rec[order], side="left")
    pos = np.empty(len(rec), np.int64)
    pos[order] = np.arange(len(rec)) - first
    return floor + (pos < left[rec])


def minute_heart_rate(group: np.ndarray, t: np.ndarray, bpm: np.ndarray, rank: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean heart rate per (group, minute) from the best-ranked source; returns (table, used mask)."""
    if len(t) == 0:
        return pd.DataFrame({"group": [], "minute": [], "heart_rate": [], "rank": []}), np.zeros(0, bool)
    df = pd.DataFrame({"group": group, "minute": t // MINUTE_NS, "hr": bpm, "rank": rank})
    best = df.groupby(["group", "minute"], sort=False)["rank"].transform("min").to_numpy()
    keep = df["rank"].to_numpy() == best
    out = (df[keep].groupby(["group", "minute"], sort=True)
           .agg(heart_rate=("hr", "mean"), rank=("rank", "first")).reset_index())
    return out, keep


def assemble(steps: pd.DataFrame, hr: pd.DataFrame, participants: list[str] | np.ndarray,
             labels: dict[int, str]) -> pd.DataFrame:
    """Join the step and heart-rate minute tables into the contract frame (sorted by participant, ts)."""
    s = steps.rename(columns={"rank": "rank_s"}) if len(steps) else pd.DataFrame(
        {"group": pd.Series(dtype="int64"), "minute": pd.Series(dtype="int64"),
         "steps": pd.Series(dtype="float64"), "rank_s": pd.Series(dtype="int64")})
    h = hr.rename(columns={"rank": "rank_h"}) if len(hr) else pd.DataFrame(
        {"group": pd.Series(dtype="int64"), "minute": pd.Series(dtype="int64"),
         "heart_rate": pd.Series(dtype="float64"), "rank_h": pd.Series(dtype="int64")})
    for df in (s, h):
        df["group"] = df["group"].astype("int64")
        df["minute"] = df["minute"].astype("int64")
    m = s.merge(h, on=["group", "minute"], how="outer", sort=True)
    src_s = m["rank_s"].map(labels).astype(object)
    src_h = m["rank_h"].map(labels).astype(object)
    source = src_s.where(src_s.notna(), src_h)
    both = (src_s.notna() & src_h.notna() & (src_s != src_h)).to_numpy()
    if both.any():
        source[both] = [f"{a}+{b.split(':', 1)[-1]}" for a, b in zip(src_s[both], src_h[both])]
    pids = np.asarray(participants, dtype=object)
    frame = pd.DataFrame({
        "participant_id": pids[m["group"].to_numpy(dtype=np.int64)] if len(m) else np.array([], dtype=object),
        "ts": pd.to_datetime(m["minute"].to_numpy(dtype=np.int64) * MINUTE_NS, utc=True).tz_convert(TZ),
        "steps": m["steps"].astype("float64").to_numpy(),
        "heart_rate": m["heart_rate"].astype("float64").to_numpy(),
        "source": source.astype(object).to_numpy(),
    })
    return frame.reset_index(drop=True)


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "participant_id": pd.Series(dtype=object), "ts": pd.Series(dtype=f"datetime64[ns, {TZ}]"),
        "steps": pd.Series(dtype="float64"), "heart_rate": pd.Series(dtype="float64"),
        "source": pd.Series(dtype=object),
    })


def localize(naive: pd.Series, tz: str, dropped_reason: np.ndarray) -> pd.Series:
    """Naive local wall-clock times in ``tz`` -> UTC; DST gaps / repeats become NaT with their reason
    written into ``dropped_reason`` (object array, '' = fine)."""
    loc = naive.dt.tz_localize(tz, nonexistent="NaT", ambiguous="NaT")
    bad = loc.isna() & naive.notna()
    if bad.any():
        gap = naive[bad].dt.tz_localize(tz, nonexistent="NaT", ambiguous=np.zeros(int(bad.sum()), bool)).isna()
        idx = np.flatnonzero(bad.to_numpy())
        dropped_reason[idx] = np.where(gap.to_numpy(), "nonexistent_local_time", "ambiguous_local_time")
    return loc.dt.tz_convert("UTC")


def count_reasons(reason: np.ndarray) -> dict[str, int]:
    """Counts of non-empty reason codes in an object array."""
    vals, counts = np.unique(reason[reason != ""].astype(str), return_counts=True)
    return {str(v): int(c) for v, c in zip(vals, counts)}


def reason_notes(reason: np.ndarray, where: Callable[[int], str], skip: tuple[str, ...] = ()) -> list[str]:
    """One note per reason code: count and where the first such record is (``where(i)`` is e.g.
    ``'line 12'``); never the record's content, which may hold an identifier."""
    out = []
    for code in sorted(set(reason[reason != ""].tolist()) - set(skip)):
        idx = np.flatnonzero(reason == code)
        out.append(f"{code}: {len(idx):,} records, first at {where(int(idx[0]))}")
    return out
