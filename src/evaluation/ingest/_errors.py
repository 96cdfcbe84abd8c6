"""The errors ingest raises. Every message names the file (and row and column where there is one);
none prints a raw value: values are described by their *shape* (letters -> ``a``, digits -> ``9``),
because a swapped-columns export puts participant ids where a timestamp or a count is expected.
"""
from __future__ import annotations

_SHAPE = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "a" * 52 + "9" * 10,
)


def shape(value: object, limit: int = 32) -> str:
    """A value's shape, safe for messages: letters become ``a``, digits ``9``, other text ``?``
    (``"RID0012"`` -> ``"aaa9999"``; ``"2023-03-06"`` -> ``"9999-99-99"``)."""
    if value is None:
        return "<empty>"
    s = str(value)
    out = "".join(c if c in "a9-+:., /_" else "?" for c in s.translate(_SHAPE))
    return out[:limit] + ("..." if len(out) > limit else "")


class IngestError(ValueError):
    """Base class: a problem with one input file. ``file`` is always set; ``reason`` is a code."""

    def __init__(self, file: str, message: str, *, reason: str = "unreadable", line: int | None = None,
                 column: str | None = None):
        self.file, self.reason, self.line, self.column = str(file), reason, line, column
        super().__init__(message)


class SchemaError(IngestError):
    """A file or a row does not match the expected schema; names file, row, column, expected and found.

    ``found`` is a description (a value's shape, or the columns present), never a raw value.
    """

    def __init__(self, file: str, row: int | None, column: str, expected: str, found: str, *, reason: str = "schema"):
        self.row, self.expected, self.found = row, expected, found
        where = f"{file}" + (f", row {row}" if row is not None else "")
        super().__init__(file, f"{where}, column {column!r}: expected {expected}, found {found}", reason=reason,
                         line=None if row is None else row + 1, column=column)


class EncodingError(IngestError):
    """No encoding fits: names the file, the first line that fails and the encodings tried."""

    def __init__(self, file: str, line: int | None, tried: list[str]):
        self.tried = list(tried)
        where = f"line {line}" if line is not None else "the start of the file"
        super().__init__(
            file, f"{file}: cannot decode {where} with any of {', '.join(self.tried)} "
                  f"(pass encoding= to read_exports; 인코딩을 알 수 없음)", reason="undecodable", line=line)


class ExportFileError(IngestError):
    """A file that cannot be read at all (empty, cut-short gzip, unreadable): names the file."""

    def __init__(self, file: str, reason: str, detail: str):
        self.detail = detail
        super().__init__(file, f"{file}: {detail}", reason=reason)
