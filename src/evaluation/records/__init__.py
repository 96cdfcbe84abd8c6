"""Programme records in: the centre's enrolment, screening and survey files -> the ``participants`` table.

* :data:`FIELDS` / :func:`describe` -- the contract (long: one row per person and round 기초/중간/최종 =
  week 0/12/24), with units and the national mobile-healthcare programme's definitions;
* :func:`read_records` -- CSV (UTF-8 or CP949) and Excel (python-calamine) files with Korean headers,
  title rows and merged two-row headers; identifiers refused; ids pseudonymised with the wearable
  store's key; every error at once by file, row and column (pandera), never a value;
* :func:`to_participants` -- long records -> the analysis table the notebooks read (no truth columns);
* :func:`build` / :func:`check` -- ``evaluation records build params/X.yaml`` / ``evaluation records check FILE...``;
* :func:`quarantine_reasons` -- why rows of a build were set aside (reasons only, for reports).

Two programme designs are read: the smart band (참여구분 밴드지급 / 개인기기 / 비교군) and the 24-week mobile
healthcare (참여자 / 대기자, 대상구분 건강위험군 / 만성질환자, rounds 기초 / 중간 / 최종).
"""
from __future__ import annotations

from ._build import RecordsBuild, build, check, for_run, quarantine_path, quarantine_reasons
from ._contract import FIELDS, LABELS, MEASURES, ROUNDS, Field, describe
from ._grid import RecordsFileError
from ._pivot import arm_levels, participant_columns, to_participants
from ._read import Records, age_at, read_records
from ._validate import MESSAGES, message


def _register_labels() -> None:
    from ..publish import i18n

    i18n.register(LABELS)  # staff names of the arm and group codes in published tables


_register_labels()

__all__ = [
    "FIELDS", "LABELS", "MEASURES", "MESSAGES", "ROUNDS", "Field", "Records", "RecordsBuild", "RecordsFileError",
    "age_at", "arm_levels", "build", "check", "describe", "for_run", "message", "participant_columns",
    "quarantine_path", "quarantine_reasons", "read_records", "to_participants",
]
