"""Look at a CSV export before DuckDB reads it: compression, encoding, delimiter, header, trailing commas.

Only the first 64 KiB are decoded in Python. Encodings DuckDB cannot read itself (CP949 / EUC-KR,
UTF-16) are transcoded to a private temporary UTF-8 file in large chunks (a C codec over megabytes,
not a loop over rows), so line numbers stay those of the original file.
"""
from __future__ import annotations

import codecs
import gzip
import os
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._errors import EncodingError, ExportFileError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 1 << 16
CHUNK = 1 << 24
AUTO_ENCODINGS = ("utf-8", "cp949")
"""Tried in this order when ``encoding`` is not given (CP949 is a superset of EUC-KR)."""
_DELIMS = (",", "\t", ";", "|")


@dataclass
class CsvLayout:
    """How to read one CSV export (what :func:`sniff_csv` found)."""

    source: Path
    path: Path
    compression: str
    encoding: str
    delim: str
    quote: str
    skip: int
    header_line: int
    names: list[str]
    slack: int
    header_text: str
    temp: Path | None = None
    notes: list[str] = field(default_factory=list)

    def cleanup(self) -> None:
        if self.temp is not None:
            try:
                self.temp.unlink()
                self.temp.parent.rmdir()
            except OSError:
                pass
            self.temp = None


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def read_head(path: Path, gz: bool, n: int = HEAD_BYTES) -> tuple[bytes, bool]:
    """The first ``n`` decoded bytes and whether that is the whole file (gzip-aware, cut-short tolerant)."""
    with open(path, "rb") as f:
        if not gz:
            data = f.read(n + 1)
            return data[:n], len(data) <= n
        d = zlib.decompressobj(wbits=31)
        out = b""
        try:
            while len(out) <= n:
                chunk = f.read(1 << 16)
                if not chunk:
                    break
                out += d.decompress(chunk, n + 1 - len(out))
                while d.unconsumed_tail and len(out) <= n:
                    out += d.decompress(d.unconsumed_tail, n + 1 - len(out))
        except zlib.error:
            raise ExportFileError(str(path), "corrupt_gzip", "not a valid gzip stream (손상된 gzip 파일)") from None
        if len(out) <= n and not d.eof:  # the whole file was consumed without the end of the stream
            raise ExportFileError(str(path), "truncated_gzip", "gzip stream is cut short or damaged (gzip 파일이 잘림)")
        whole = len(out) <= n and d.eof and not d.unused_data
        return out[:n], whole


def _decode_error_line(data: bytes, enc: str, final: bool) -> int | None:
    """1-based line of the first byte ``enc`` cannot decode in ``data`` (None when it decodes)."""
    dec = codecs.getincrementaldecoder(enc)(errors="strict")
    try:
        dec.decode(data, final=final)
        return None
    except UnicodeDecodeError as e:
        return data[: e.start].count(b"\n") + 1


def duckdb_encoding(enc: str) -> str | None:
    """The DuckDB name for encodings its CSV reader handles natively (None: transcode first)."""
    name = codecs.lookup(enc).name
    return {"utf-8": "utf-8", "utf-8-sig": "utf-8", "iso8859-1": "latin-1", "latin-1": "latin-1"}.get(name)


def choose_encoding(path: Path, head: bytes, whole: bool, declared: str | None) -> str:
    """A Python codec name for the file: the declared one, a BOM's, or the first of AUTO_ENCODINGS that
    decodes the head; :class:`EncodingError` (file, line, encodings tried) when none does."""
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise ValueError(f"unknown encoding {declared!r}") from None
        line = _decode_error_line(head, declared, whole)
        if line is not None:
            raise EncodingError(str(path), line, [declared])
        return declared
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    first_bad = None
    for enc in AUTO_ENCODINGS:
        line = _decode_error_line(head, enc, whole)
        if line is None:
            return enc
        first_bad = line if first_bad is None else min(first_bad, line)
    raise EncodingError(str(path), first_bad, list(AUTO_ENCODINGS))


def transcode(path: Path, gz: bool, enc: str) -> Path:
    """Decode the whole file with ``enc`` into a private temporary UTF-8 file (0600 in a 0700 folder).

    Raises :class:`EncodingError` naming the first line that does not decode, and
    :class:`ExportFileError` for a cut-short gzip.
    """
    folder = Path(tempfile.mkdtemp(prefix="evaluation-ingest-"))  # mkdtemp: mode 0700
    out = folder / "transcoded.csv"
    dec = codecs.getincrementaldecoder(enc)(errors="strict")
    lines = 0
    opener = gzip.open if gz else open
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with opener(path, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while True:
                chunk = fin.read(CHUNK)
                try:
                    text = dec.decode(chunk, final=not chunk)
                except UnicodeDecodeError as e:
                    raise EncodingError(str(path), lines + chunk[: max(e.start, 0)].count(b"\n") + 1, [enc]) from None
                lines += chunk.count(b"\n")
                fout.write(text.encode("utf-8"))
                if not chunk:
                    break
    except (EOFError, gzip.BadGzipFile, zlib.error):
        _remove(out)
        raise ExportFileError(str(path), "truncated_gzip", "gzip stream is cut short or damaged (gzip 파일이 잘림)") from None
    except BaseException:
        _remove(out)
        raise
    return out


def _remove(p: Path) -> None:
    try:
        p.unlink()
        p.parent.rmdir()
    except OSError:
        pass


def sniff_csv(path: Path, encoding: str | None = None) -> CsvLayout:
    """Compression, encoding, delimiter, quoting, header names and trailing-comma slack of a CSV export.

    Raises :class:`ExportFileError` (``empty_file``, ``corrupt_gzip``) and :class:`EncodingError`.
    """
    gz = is_gzip(path)
    head, whole = read_head(path, gz)
    if not head.strip(b" \t\r\n\x00"):
        raise ExportFileError(str(path), "empty_file", "file is empty (빈 파일)")
    enc = choose_encoding(path, head, whole, encoding)
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(head, final=whole)
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    if not whole:
        lines = lines[:-1]  # the head may end mid-line
    skip = 0
    while skip < len(lines) and not lines[skip].strip("\r"):
        skip += 1
    if skip >= len(lines):
        raise ExportFileError(str(path), "empty_file", "file holds only blank lines (빈 파일)")
    header = lines[skip].rstrip("\r")
    delim = max(_DELIMS, key=lambda d: (header.count(d), d == ","))
    sample = [ln.rstrip("\r") for ln in lines[skip + 1: skip + 200] if ln.strip("\r")]
    quote = '"' if '"' in header or any('"' in ln for ln in sample) else ""
    names = [n.strip().strip('"').strip() for n in header.split(delim)]
    n_names = len(names) - 1 if len(names) > 1 and names[-1] == "" else len(names)
    counts = [ln.count(delim) + 1 for ln in sample]
    # a trailing delimiter on every row is an always-empty last field, not a shift of the columns
    slack = 0
    if n_names < len(names):  # the header has one: rows are taken to carry it too, unless most show otherwise
        without = [ln for ln in sample if ln.count(delim) + 1 == n_names and not ln.endswith(delim)]
        slack = 0 if without and 2 * len(without) >= len(sample) else 1
    elif counts:
        mode = max(set(counts), key=counts.count)
        if mode == n_names + 1 and all(ln.endswith(delim) for ln in sample if ln.count(delim) + 1 == mode):
            slack = 1
    layout = CsvLayout(
        source=path, path=path, compression="gzip" if gz else "none", encoding=enc, delim=delim, quote=quote,
        skip=skip, header_line=skip + 1, names=names[:n_names], slack=slack,
        header_text=header.rstrip(delim + " \t"),
    )
    if duckdb_encoding(enc) is None:
        layout.temp = transcode(path, gz, enc)
        layout.path, layout.compression = layout.temp, "none"
    return layout


def count_lines(path: Path, gz: bool) -> int:
    """Number of physical lines (a last line without a newline counts)."""
    opener = gzip.open if gz else open
    n, last = 0, b""
    with opener(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (1 if last and last != b"\n" else 0)


def line_index(path: Path, gz: bool, byte_positions: np.ndarray | None = None) -> tuple[int, np.ndarray, np.ndarray]:
    """(number of physical lines, 1-based numbers of blank lines, line of each byte position).

    A blank line is empty or a lone ``\\r`` (DuckDB's CSV reader skips those). Vectorised per
    16 MiB chunk. The line of a reject's ``line_byte_position`` is 1 + the newlines before it:
    DuckDB's own ``line`` is off for casts checked after parsing once a file has blank lines.
    """
    opener = gzip.open if gz else open
    pos = np.sort(np.asarray(byte_positions if byte_positions is not None else [], dtype=np.int64))
    order = np.argsort(np.asarray(byte_positions if byte_positions is not None else [], dtype=np.int64), kind="stable")
    pos_lines = np.zeros(len(pos), dtype=np.int64)
    blanks: list[np.ndarray] = []
    n_nl = 0
    prev_nl = -1
    prev_byte = -1
    offset = 0
    last = b""
    with opener(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            buf = np.frombuffer(chunk, dtype=np.uint8)
            nl = np.flatnonzero(buf == 10) + offset
            lo, hi = np.searchsorted(pos, [offset, offset + len(chunk)])
            if hi > lo:
                pos_lines[lo:hi] = 1 + n_nl + np.searchsorted(nl, pos[lo:hi], side="left")
            if len(nl):
                starts = np.concatenate(([prev_nl], nl[:-1])) + 1
                length = nl - starts
                idx = nl - 1 - offset
                before = np.where(idx >= 0, buf[np.maximum(idx, 0)], prev_byte)
                blank = (length == 0) | ((length == 1) & (before == 13))
                blanks.append(np.flatnonzero(blank) + n_nl + 1)
                n_nl += len(nl)
                prev_nl = int(nl[-1])
            prev_byte = int(buf[-1])
            offset += len(chunk)
            last = chunk[-1:]
    if len(pos) and pos[-1] >= offset:
        pos_lines[np.searchsorted(pos, offset):] = 1 + n_nl
    n_lines = n_nl + (1 if last and last != b"\n" else 0)
    out = np.empty(len(pos), dtype=np.int64)
    out[order] = pos_lines
    return n_lines, (np.concatenate(blanks) if blanks else np.empty(0, dtype=np.int64)), out
