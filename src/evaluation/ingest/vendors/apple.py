"""Apple Health ``export.xml`` (plain, .gz, or the phone's ``export.zip``) -> minutes.

Streaming: the stdlib expat parser (the C parser under ``ElementTree.iterparse``) is driven
directly with start/end handlers, so no element tree is built, memory stays flat for exports of
hundreds of MB, and every record keeps its line number for messages. Only step and heart-rate
records are kept, as compact numeric chunks; dates are parsed vectorised per chunk.

Rules (see ``_common`` for allocation and per-minute priority):

* control characters that XML forbids (vertical tabs in names of older exports) are removed before
  parsing, and counted in ``notes``;
* dates are ``2017-01-22 18:57:52 +0200`` or, in exports of iOS 8/9, ``20151107171924+0100``; the
  old exports' ``source=`` attribute stands for ``sourceName=``. A malformed old export is refused
  with a message that names the old format (early iOS wrote them with unescaped characters);
* each record's own ``+HHMM`` offset gives its instant; instants are shown in Asia/Seoul. Apple
  writes the offset of the phone *at export time* on every record, so the wall-clock time in the
  file can be an hour off for events in another DST season, but the instant (what we use) is right;
* source tiers (lower wins): 1 watch / band (Apple Watch, or a band's companion app such as Garmin
  Connect, Fitbit, Galaxy Watch, Mi Fit), 2 phone (iPhone), 3 other apps; manual entries
  (``HKWasUserEntered = 1``) are dropped as ``manual_entry``. Apple's own Health app ranks sources the
  same way by default (watch over phone over apps);
* source labels are built from the device model, never the device name (which is usually
  "<owner's name>'s iPhone"), and app names are stripped of a possessive owner prefix.
"""
from __future__ import annotations

import re
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from ._common import (
    MAX_SPAN_NS, VendorFileError, VendorFrame, _add, allocate_steps, assemble, count_reasons, empty_frame,
    minute_heart_rate, open_binary, reason_notes,
)

STEP = "HKQuantityTypeIdentifierStepCount"
HEART = "HKQuantityTypeIdentifierHeartRate"
BAND_APPS = ("connect", "garmin", "fitbit", "galaxy watch", "samsung health", "mi fit", "zepp", "polar",
             "withings", "health mate", "huawei", "amazfit", "oura", "whoop", "suunto", "coros", "손목닥터")
"""Companion apps of wrist devices, ranked with the watch (lower-case substrings of ``sourceName``)."""
TIERS = {"watch": 1, "phone": 2, "app": 3}
_MODEL = re.compile(r"model:([^,>]+)")
_POSSESSIVE = re.compile(r"^.*?(?:['’]s|의)\s+")
_CHUNK = 50_000  # records per flush: ~50 MB of attribute dicts at most


def classify(source_name: str, device: str) -> tuple[int, str]:
    """(tier, label) of a record's source. Label never carries the owner's device name."""
    m = _MODEL.search(device or "")
    model = (m.group(1).strip() if m else "").lower()
    name = (source_name or "").lower()
    if "watch" in model or ("apple watch" in name) or (not model and name.endswith("watch")):
        return TIERS["watch"], "Apple Watch" if ("apple" in name or "watch" in model or not name) else "Watch"
    if any(app in name for app in BAND_APPS):
        return TIERS["watch"], _POSSESSIVE.sub("", source_name).strip() or "band app"
    if "iphone" in model or "iphone" in name:
        return TIERS["phone"], "iPhone"
    return TIERS["app"], _POSSESSIVE.sub("", source_name).strip() or "app"


def parse_dates(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Apple's ``2017-01-22 18:57:52 +0200`` -> (UTC int64 ns, valid mask), strictly.

    pandas parses the wall-clock part (strict: 30 February is invalid); the ``+HHMM`` suffix is read
    from the fixed character positions with numpy. Written by hand because pandas' ``%z`` path costs
    about 25 us per distinct string (most of the reader's time), and pyarrow's ``strptime`` silently
    rolls invalid dates over (30 February -> 2 March).
    """
    n = len(texts)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    ns, ok = _parse_modern(texts)
    if not ok.all():
        # iOS 8/9 exports write compact dates (20151107171924+0100): parsed where the modern form failed
        bad = np.flatnonzero(~ok)
        ns2, ok2 = _parse_compact([texts[i] for i in bad])
        ns[bad[ok2]] = ns2[ok2]
        ok[bad[ok2]] = True
    return ns, ok


# pandas' wall-clock parse also takes one-digit fields ("00:00:0 ") and non-ASCII digits ("0０"); Apple
# writes neither, so every digit position must hold an ASCII digit
_MODERN_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18)


def _ascii_digits(u: np.ndarray, positions) -> np.ndarray:
    cols = u[:, list(positions)]
    return ((cols >= 48) & (cols <= 57)).all(axis=1)


def _parse_compact(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Old (iOS 8/9) ``20151107171924+0100`` -> (UTC int64 ns, valid mask), strictly, like the modern form."""
    n = len(texts)
    wall = pd.to_datetime(pd.Series(texts, dtype=object).str.slice(0, 14), format="%Y%m%d%H%M%S", errors="coerce")
    u = np.asarray(texts, dtype="U20").view(np.uint32).reshape(n, 20)
    d = u[:, 15:19].astype(np.int64) - 48
    sign = np.where(u[:, 14] == 45, -1, 1)
    ok = (wall.notna().to_numpy() & (u[:, 19] == 0) & (u[:, 18] != 0) & ((u[:, 14] == 43) | (u[:, 14] == 45))
          & ((d >= 0) & (d <= 9)).all(axis=1) & (d[:, 2] <= 5) & _ascii_digits(u, range(14)))
    offset_s = sign * ((d[:, 0] * 10 + d[:, 1]) * 3600 + (d[:, 2] * 10 + d[:, 3]) * 60)
    ns = wall.to_numpy(dtype="datetime64[ns]").view(np.int64) - offset_s * 1_000_000_000
    return np.where(ok, ns, 0), ok


def _parse_modern(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    n = len(texts)
    wall = pd.to_datetime(pd.Series(texts, dtype=object).str.slice(0, 19), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    u = np.asarray(texts, dtype="U26").view(np.uint32).reshape(n, 26)
    d = u[:, 21:25].astype(np.int64) - 48
    sign = np.where(u[:, 20] == 45, -1, 1)
    ok = (wall.notna().to_numpy() & (u[:, 25] == 0) & (u[:, 24] != 0) & (u[:, 19] == 32)
          & ((u[:, 20] == 43) | (u[:, 20] == 45)) & ((d >= 0) & (d <= 9)).all(axis=1) & (d[:, 2] <= 5)
          & _ascii_digits(u, _MODERN_DIGITS))
    offset_s = sign * ((d[:, 0] * 10 + d[:, 1]) * 3600 + (d[:, 2] * 10 + d[:, 3]) * 60)
    ns = wall.to_numpy(dtype="datetime64[ns]").view(np.int64) - offset_s * 1_000_000_000
    return np.where(ok, ns, 0), ok


class _Collector:
    """expat handlers: keeps the attribute dicts of step / heart-rate records, flushed to numbers per chunk."""

    def __init__(self, parser: expat.XMLParserType):
        self.n_top = 0
        self.n_other = 0
        self.recs: list[dict[str, str]] = []
        self.lines: list[int] = []
        self.manual: list[int] = []  # indices into recs
        self.chunks: list[dict[str, np.ndarray]] = []
        self.source_keys: dict[tuple[str, str], int] = {}
        self._corr = 0
        self._cur = -1  # index of the open candidate record, -1 if none
        self.export_date: str | None = None
        self.old_format = False  # iOS 8/9: ``source=`` instead of ``sourceName=``
        recs, lines, manual = self.recs, self.lines, self.manual

        # closures over local names: these run once per XML element, hundreds of thousands of times
        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "Record":
                if self._corr:
                    return  # correlation children repeat top-level records (DTD note)
                self.n_top += 1
                if len(recs) >= _CHUNK:
                    self.flush()  # the previous record is closed: its MetadataEntry children are seen
                t = attrs.get("type")
                if t == STEP or t == HEART:
                    if "sourceName" not in attrs and "source" in attrs:
                        attrs["sourceName"] = attrs["source"]
                        self.old_format = True
                    recs.append(attrs)
                    lines.append(parser.CurrentLineNumber)
                    self._cur = len(recs) - 1
                else:
                    self.n_other += 1
                    self._cur = -1
            elif tag == "MetadataEntry":
                if self._cur >= 0 and attrs.get("key") == "HKWasUserEntered" and attrs.get("value", "").strip() in ("1", "true"):
                    manual.append(self._cur)
            else:
                self._cur = -1
                if tag == "Correlation":
                    self._corr += 1
                elif tag == "ExportDate":
                    self.export_date = attrs.get("value")

        def end(tag: str) -> None:
            if tag == "Correlation":
                self._corr -= 1

        self.start, self.end = start, end

    def flush(self) -> None:
        """Turn the buffered records into numbers (vectorised) and free them."""
        recs = self.recs
        if not recs:
            return
        get = dict.get
        start, start_ok = parse_dates([get(a, "startDate", "") for a in recs])
        end, end_ok = parse_dates([get(a, "endDate", "") for a in recs])
        value = pd.to_numeric(pd.Series([get(a, "value", "") for a in recs], dtype=object), errors="coerce").to_numpy(np.float64)
        model = pd.Series([get(a, "device", "") for a in recs], dtype=object).str.extract(_MODEL, expand=False).fillna("").str.strip()
        key = list(zip([get(a, "sourceName", "") for a in recs], model))
        src = np.fromiter((self.source_keys.setdefault(k, len(self.source_keys)) for k in key), np.int64, len(key))
        manual = np.zeros(len(recs), bool)
        manual[np.asarray(self.manual, np.int64)] = True
        hr = np.array([get(a, "type") == HEART for a in recs], bool)
        unit = np.array([get(a, "unit", "") for a in recs], dtype=object)
        self.chunks.append({
            "hr": hr, "start": start, "start_ok": start_ok, "end": end, "end_ok": end_ok, "value": value,
            "unit_ok": np.where(hr, unit == "count/min", unit == "count"),
            "src": src, "line": np.asarray(self.lines, np.int64), "manual": manual,
        })
        # clear in place: the handlers hold references to these lists
        recs.clear()
        self.lines.clear()
        self.manual.clear()
        self._cur = -1


def read(path: Path, *, participant_id: str, source_tz: str = "Asia/Seoul") -> VendorFrame:
    """Read one Apple Health export (``source_tz`` is unused: every record carries its own offset)."""
    path = Path(path)
    parser = expat.ParserCreate()
    col = _Collector(parser)
    parser.StartElementHandler = col.start
    parser.EndElementHandler = col.end
    parser.buffer_text = False
    with open_binary(path) as raw:
        fh = _XmlText(raw)
        try:
            parser.ParseFile(fh)
        except expat.ExpatError as exc:
            cut = {expat.errors.codes[e] for e in (expat.errors.XML_ERROR_NO_ELEMENTS, expat.errors.XML_ERROR_UNCLOSED_TOKEN,
                                                   expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION, expat.errors.XML_ERROR_PARTIAL_CHAR)}
            what = (f"XML is cut short: the export looks truncated ({expat.errors.messages[exc.code]})" if exc.code in cut
                    else f"XML is malformed ({expat.errors.messages[exc.code]})")
            if col.old_format or _looks_old(path):
                what += (f"; this is Apple Health's old export format ({OLD_FORMAT}), whose exports are often not "
                         "well-formed XML: export again from a current iOS, or repair the line named")
            raise VendorFileError(path, f"line {exc.lineno}, column {exc.offset}", what) from None
    col.flush()
    if col.n_top == 0 and not col.chunks:
        raise VendorFileError(path, None, "no <Record> elements: not an Apple Health export.xml")
    vf = _to_frame(path, col, participant_id)
    if fh.removed:
        vf.notes.append(f"{fh.removed:,} control characters (vertical tab ...) removed: not allowed in XML, "
                        "older iOS exports hold them")
    if col.export_date:
        t, ok = parse_dates([col.export_date])
        vf.export_time = pd.Timestamp(int(t[0]), tz="UTC") if ok[0] else None
    if col.old_format:
        vf.notes.append(f"Apple Health's old export format ({OLD_FORMAT}) read")
    return vf


_CONTROL = bytes([*range(0, 9), 11, 12, *range(14, 32)])


class _XmlText:
    """A binary stream with the control characters XML 1.0 forbids removed (older iOS exports hold
    vertical tabs in device and source names; expat stops at them). UTF-8 multi-byte sequences never
    contain these bytes, and newlines are kept, so line numbers stay those of the file."""

    def __init__(self, fh):
        self.fh, self.removed = fh, 0

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        clean = data.translate(None, _CONTROL)
        self.removed += len(data) - len(clean)
        return clean


OLD_FORMAT = "iOS 8/9: compact dates such as 20151107171924+0100 and a source= attribute"
_OLD_RECORD = re.compile(rb'<Record\b[^>]*\ssource="|Date="\d{14}[+-]\d{4}"')


def _looks_old(path: Path) -> bool:
    """The first 64 KiB hold a record of the old (iOS 8/9) form."""
    from ._common import head_bytes

    return bool(_OLD_RECORD.search(head_bytes(path, 1 << 16)))


def _to_frame(path: Path, col: _Collector, participant_id: str) -> VendorFrame:
    dropped: dict[str, int] = {}
    notes: list[str] = []
    _add(dropped, "non_step_record", col.n_other)
    if not col.chunks:
        return VendorFrame(empty_frame(), col.n_top, dropped, ["no step or heart-rate records"], 0, "apple_health_xml")
    a = {k: np.concatenate([c[k] for c in col.chunks]) for k in col.chunks[0]}
    n = len(a["hr"])
    names = {v: k for k, v in col.source_keys.items()}
    tier_label = [classify(names[i][0], f"model:{names[i][1]}" if names[i][1] else "") for i in range(len(names))]
    reason = np.full(n, "", dtype=object)
    unit_ok = a["unit_ok"]
    checks = [
        (a["manual"], "manual_entry"),
        (~(a["start_ok"] & a["end_ok"]), "unparseable_date"),
        (~np.isfinite(a["value"]), "unparseable_value"),
        (~unit_ok, "unexpected_unit"),
        (a["value"] < 0, "negative_value"),
        (a["end"] < a["start"], "end_before_start"),
        (~a["hr"] & (a["end"] - a["start"] > MAX_SPAN_NS), "span_too_long"),
    ]
    for mask, code in checks:
        reason[(reason == "") & mask] = code
    ok = reason == ""
    # exact duplicates (same source, start, end, value, kind): a re-synced copy
    dup_key = pd.DataFrame({"h": a["hr"], "s": a["src"], "a": a["start"], "e": a["end"], "v": a["value"]})
    dup = dup_key.duplicated().to_numpy() & ok
    reason[dup] = "duplicate_record"
    ok &= ~dup
    for code, cnt in count_reasons(reason).items():
        _add(dropped, code, cnt)
    notes += reason_notes(reason, lambda i: f"line {a['line'][i]}", skip=("manual_entry", "duplicate_record"))
    is_step = ~a["hr"] & np.isfinite(a["value"])
    steps_in = float(a["value"][is_step].sum())
    steps_dropped = {code: float(a["value"][is_step & (reason == code)].sum()) for code in count_reasons(reason[is_step])}

    # rank: tier, then the source's total steps (or samples) in the file, larger first, then label
    labels = [f"apple_health:{lab}" for _, lab in tier_label]
    src_tier = np.array([t for t, _ in tier_label], np.int64)
    weight = np.bincount(a["src"][ok], weights=np.where(a["hr"][ok], 1.0, a["value"][ok]), minlength=len(names))
    order = sorted(range(len(names)), key=lambda i: (src_tier[i], -weight[i], labels[i]))
    rank_of_src = np.empty(len(names), np.int64)
    rank_of_src[order] = np.arange(len(names))
    rank = rank_of_src[a["src"]]
    rank_labels = {int(rank_of_src[i]): labels[i] for i in range(len(names))}

    zero = np.zeros(n, np.int64)
    s = ok & ~a["hr"]
    steps, used_s, lost = allocate_steps(zero[s], a["start"][s], a["end"][s], a["value"][s], rank[s])
    h = ok & a["hr"]
    hr, used_h = minute_heart_rate(zero[h], a["start"][h], a["value"][h], rank[h])
    n_over = int((~used_s).sum() + (~used_h).sum())
    _add(dropped, "overlap_lower_priority", n_over)
    records_used = int(used_s.sum() + used_h.sum())
    frame = assemble(steps, hr, [participant_id], rank_labels)
    tiers_present = sorted({(int(t), lab) for t, lab in zip(src_tier, labels)})
    notes.append("sources (tier 1 watch/band, 2 phone, 3 app): " + ", ".join(f"{lab} [{t}]" for t, lab in tiers_present))
    notes.append("Apple writes the export-time UTC offset on every record: instants are right, "
                 "wall-clock times in the file may be an hour off across DST seasons")
    steps_dropped["overlap_lower_priority"] = lost
    frac = float((a["value"][s] - np.rint(a["value"][s])).sum())
    if frac:
        steps_dropped["fractional_count"] = frac
    vf = VendorFrame(frame, col.n_top, dropped, notes, records_used, "apple_health_xml", steps_in, steps_dropped)
    return vf.check()
