"""Programme records in: the centre's enrolment, screening and survey files -> the ``participants`` table.

* :data:`FIELDS` / :func:`describe` -- the contract (long: one row per person and round 기초/중간/최종 =
  week 0/12/24), with units and the national mobile-healthcare programme's definitions;
* :func:`read_records` -- CSV (UTF-8 or CP949) and Excel (python-calamine) files with Korean headers,
  title rows and merged two-row headers; identifiers refused; ids pseudonymised with the wearable
  store's key; every error at once by file, row and column (pandera), never a value;
* :func:`to_participants` -- long records -> the analysis table the notebooks read (no truth columns);
* :func:`build` / :func:`check` -- ``evaluation records build params/X.yaml`` / ``evaluation records check FILE...``.
"""
from __future__ import annotations

from ._build import RecordsBuild, build, check, for_run
from ._contract import FIELDS, MEASURES, ROUNDS, Field, describe
from ._grid import RecordsFileError
from ._pivot import participant_columns, to_participants
from ._read import Records, age_at, read_records
from ._validate import MESSAGES, message

__all__ = [
    "FIELDS", "MEASURES", "MESSAGES", "ROUNDS", "Field", "Records", "RecordsBuild", "RecordsFileError", "age_at",
    "build", "check", "describe", "for_run", "message", "participant_columns", "read_records", "to_participants",
]
