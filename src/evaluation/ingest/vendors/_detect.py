"""Which vendor format a file is, from its content (magic bytes and first lines), gz/zip aware."""
from __future__ import annotations

import re
from pathlib import Path

from ._common import head_bytes

_FITBIT_NAME = re.compile(r"^(steps|heart_rate)-\d{4}-\d{2}-\d{2}\.json(\.gz)?$", re.I)


def _fit_header(raw: bytes) -> bool:
    # FIT header: size byte 12 or 14, then protocol, profile, data size, then ".FIT" at bytes 8-11
    return len(raw) >= 12 and raw[0] in (12, 14) and raw[8:12] == b".FIT"


def detect_format(path: str | Path) -> str | None:
    """The vendor format of ``path`` (one of ``FORMATS``) or ``None`` (then it is a band CSV / Parquet).

    A folder is detected by the files in it when they all share one vendor format.
    """
    path = Path(path)
    if path.is_dir():
        found = {detect_format(p) for p in sorted(path.iterdir()) if p.is_file()}
        found.discard(None)
        return found.pop() if len(found) == 1 else None
    raw = head_bytes(path, 8192)
    if not raw:
        return None
    if _fit_header(raw):
        return "garmin_fit"
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("<"):
        return "apple_health_xml" if ("<HealthData" in text or "HealthKit Export" in text) else None
    if text.startswith("["):
        body = re.sub(r"\s+", "", text[:400])
        if body.startswith('[{"dateTime"') or (body.startswith("[]") and _FITBIT_NAME.match(path.name)):
            return "fitbit_json"
        return None
    first = text.splitlines()[0] if text else ""
    if first.startswith("com.samsung."):
        return "samsung_health_csv"
    header = [c.strip().strip('"') for c in first.split(",")]
    if "Start time" in header and "End time" in header and "Step count" in header:
        return "google_fit_csv"
    if header[:1] == ["Id"] and ("ActivityMinute" in header or header[:3] == ["Id", "Time", "Value"]):
        return "fitabase_csv"
    return None


_MAGIC = (
    (b"SQLite format 3\x00", "an SQLite database (a phone app's own database file), not an export"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"bplist", "an Apple binary property list"),
    (b"PAR1", None),  # Parquet: read by the band reader
)
_XML_KINDS = (
    ("<ClinicalDocument", "a clinical-document (CDA) XML such as Apple Health's export_cda.xml; pass export.xml instead"),
    ("<gpx", "a GPS track (GPX) of one workout"),
    ("<TrainingCenterDatabase", "a Garmin Training Center (TCX) workout file"),
    ("<fhir", "a FHIR clinical record"),
)
_JSON_KINDS = (
    ('"Data Points"', "a Google Fit Takeout data-source JSON ('All data' folder); its daily-metrics CSVs are read"),
    ('"dataTypeName"', "a Google Fit Takeout data-source JSON"),
    ('"bucket"', "a Google Fit API response"),
    ('"calendarDate"', "a Garmin Connect account-export JSON (daily summaries), not a FIT file"),
    ('"summaryDate"', "a Garmin Connect account-export JSON (daily summaries), not a FIT file"),
    ('"heart_rate_max"', "a Samsung Health binning_data JSON (read with its export folder, not on its own)"),
    ('"heart_rate"', "a Samsung Health binning_data JSON (read with its export folder, not on its own)"),
)
_CSV_KINDS = (
    ({"ActivityDate", "TotalSteps"}, "a Fitabase / Fitbit daily-activity table (day totals, not minutes)"),
    ({"ActivityHour", "StepTotal"}, "a Fitabase hourly-steps table (hours, not minutes)"),
    ({"Date", "Move Minutes count"}, "a Google Fit Takeout day-totals table (one row a day, not minutes)"),
    ({"Move Minutes count"}, "a Google Fit Takeout daily-metrics CSV without its Start time / End time / Step count columns"),
    ({"Heart Points"}, "a Google Fit Takeout daily-metrics CSV without its Start time / End time / Step count columns"),
    ({"lastSyncTime"}, "a Mi Fit / Zepp Life export table"),
    ({"timestamp", "beats per minute"}, "a Fitbit time-series CSV from Google Takeout (heart_rate_YYYY-MM-DD.csv), "
                                        "not read yet; the account export's heart_rate-YYYY-MM-DD.json files are"),
    ({"timestamp", "steps"}, "a Fitbit time-series CSV from Google Takeout (steps_YYYY-MM-DD.csv), not read yet; "
                             "the account export's steps-YYYY-MM-DD.json files are"),
    ({"sourceName", "startDate", "endDate"}, "an Apple Health CSV made by a third-party converter (read export.xml instead)"),
)


def describe_unsupported(path: str | Path) -> str | None:
    """What a file looks like when it is a format the workbench does not read (another vendor's
    export, a database, a clinical document, an image ...); ``None`` when it may be one we read
    (a vendor format, a band CSV or Parquet). From content only; used to refuse such a file with
    "format not supported" instead of a band-CSV schema or encoding error."""
    path = Path(path)
    if path.is_dir():
        return None
    raw = head_bytes(path, 8192)
    if not raw:
        if path.name.lower().endswith(".zip"):
            return _describe_zip(path)
        return None
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            return what
    if detect_format(path) is not None:
        return None
    if raw[:4] == b"PK\x03\x04" or path.name.lower().endswith(".zip"):
        return _describe_zip(path)
    if raw[:12].find(b".FIT") >= 0:
        return "a FIT file with a damaged header"
    if raw.count(b"\x00") > len(raw) // 10 and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        half = max(len(raw) // 2, 1)
        if max(raw[0::2].count(0), raw[1::2].count(0)) > 0.9 * half:
            return None  # UTF-16 text without a byte-order mark: the CSV reader's encoding message fits
        return "a binary file of unknown type"
    control = sum(raw.count(bytes([c])) for c in (*range(1, 9), *range(14, 27), *range(28, 32)))
    if control > len(raw) // 20:  # text (CSV, JSON, XML in any encoding we read) has next to none
        return "a binary file of unknown type"
    text = None
    for enc in ("utf-8-sig", "cp949"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError as exc:
            if exc.start > len(raw) - 4:  # a character cut at the end of the sample
                text = raw[: exc.start].decode(enc, errors="ignore")
                break
    if text is None:
        return None  # the band reader gives the encoding error, with the line
    body = text.lstrip()
    if body.startswith("<"):
        for tag, what in _XML_KINDS:
            if tag in body:
                return what
        return "an XML file that is not an Apple Health export (no <HealthData> element)"
    if body.startswith(("{", "[")):
        for key, what in _JSON_KINDS:
            if key in body[:4000]:
                return what
        return "a JSON file that is not a Fitbit day file (steps-/heart_rate-YYYY-MM-DD.json)"
    first = body.splitlines()[0] if body else ""
    header = {c.strip().strip('"') for c in first.replace("\t", ",").replace(";", ",").split(",")}
    if header & {"participant_id", "ts"}:
        return None  # a band CSV (perhaps with a column misnamed): its schema message is the right one
    for needed, what in _CSV_KINDS:
        if needed <= header:
            return what
    return None


def _describe_zip(path: Path) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = [n.lower() for n in zf.namelist()[:5000]]
    except (OSError, zipfile.BadZipFile):
        return "a damaged zip archive"
    if any("samsunghealth" in n or "com.samsung." in n for n in names):
        return "a zipped Samsung Health export: unzip it and pass the folder"
    if any(n.startswith("takeout/") for n in names):
        return "a Google Takeout archive: unzip it and pass the Fit folder"
    if any("/fitbit/" in n or n.startswith("fitbit/") for n in names):
        return "a zipped Fitbit account export: unzip it and pass the folder"
    if any(n.endswith(".db") for n in names):
        return ("a zip holding a database (an Android Health Connect export is a zipped SQLite database), "
                "which is not read")
    if any(n.endswith(".fit") for n in names):
        return "a zip of FIT files (Garmin Connect export): unzip it and pass the .fit files"
    return "a zip archive without an Apple Health export.xml"
