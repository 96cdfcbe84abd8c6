"""Exports in, the minutes contract out: schema check, coercion, time zones, quarantine,
row accounting and keyed-hash pseudonyms.

* :func:`read_exports` -- band CSV / Parquet files, vendor exports (``ingest.vendors``) or folders
  -> :class:`IngestResult` (``minutes``, ``quarantine`` report without raw values, ``accounting`` with
  ``rows_in == rows_kept + rows_quarantined`` by file and reason, ``files``);
* :func:`iter_exports` -- the same as bounded-memory batches; :func:`ingest_to_store` streams them
  into the partitioned Parquet minutes store;
* :func:`pseudonymise` / :func:`load_key` -- HMAC-SHA256 pseudonyms; the key comes from
  ``$EVALUATION_PSEUDONYM_KEY``, a key file outside the repository, or ``demo=True``.

Errors (:class:`IngestError` and its subclasses) name the file, and the row and column where there
is one; they never quote a raw value.
"""
from __future__ import annotations

from ._errors import EncodingError, ExportFileError, IngestError, SchemaError, shape
from ._pseudonym import DEMO_KEY, KEY_ENV, KEY_FILE_ENV, MissingKeyError, load_key, pseudonymise
from ._quarantine import STORE_ENV, QuarantineStore, under_outputs
from ._read import (
    CONTRACT, EXPECTED, FILE_REASONS, REASONS, IngestResult, RowAccounting, detect_format, ingest_to_store,
    iter_exports, read_each, read_exports,
)
from ._sniff import AUTO_ENCODINGS

__all__ = [
    "AUTO_ENCODINGS", "CONTRACT", "DEMO_KEY", "EXPECTED", "EncodingError", "ExportFileError", "FILE_REASONS",
    "IngestError", "IngestResult", "KEY_ENV", "KEY_FILE_ENV", "MissingKeyError", "QuarantineStore", "REASONS",
    "RowAccounting", "STORE_ENV", "SchemaError", "detect_format", "ingest_to_store", "iter_exports", "load_key",
    "pseudonymise", "read_each", "read_exports", "shape", "under_outputs",
]
