"""Band exports in, the minutes contract out: schema check, coercion, time zones, quarantine,
row accounting and keyed-hash pseudonyms.

* :func:`read_exports` -- CSV / Parquet files (or folders) -> :class:`IngestResult`
  (``minutes``, ``quarantine``, ``accounting`` with ``rows_in == rows_kept + rows_quarantined``);
* :func:`pseudonymise` / :func:`load_key` -- HMAC-SHA256 pseudonyms; the key comes from
  ``$EVALUATION_PSEUDONYM_KEY``, a key file outside the repository, or ``demo=True``.
"""
from __future__ import annotations

from ._pseudonym import DEMO_KEY, KEY_ENV, KEY_FILE_ENV, MissingKeyError, load_key, pseudonymise
from ._read import CONTRACT, REASONS, IngestResult, RowAccounting, SchemaError, read_exports

__all__ = [
    "CONTRACT", "DEMO_KEY", "IngestResult", "KEY_ENV", "KEY_FILE_ENV", "MissingKeyError", "REASONS",
    "RowAccounting", "SchemaError", "load_key", "pseudonymise", "read_exports",
]
