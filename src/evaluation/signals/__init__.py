"""Minute-level band signals: cleaning flags and participant-day summaries.

* :func:`clean_minutes` -- every input row plus flag and cleaned columns (nothing removed);
* :func:`daily_summary` -- one row per participant-day in local time;
* :func:`process` -- both at once (shares the per-row work);
* :class:`CleaningConfig` -- every threshold, with its literature source, and the device kind
  (``"step"`` or ``"count"``) whose units the non-wear rule is stated in (:data:`RULE_DEVICE`);
* :func:`summarise_dataset` / :func:`summarise_dataset_dask` -- the same per-partition
  function streamed over a Parquet dataset on one machine or on Dask distributed;
* :func:`signal_quality` -- row accounting, wear, valid days and flags as staff-safe tables;
* :func:`accuracy_vs_truth` / :func:`daily_accuracy_vs_truth` -- cleaning scored against synthetic truth.

Hot paths are numba kernels over participant-sorted arrays (``_kernels.py``);
``_reference.py`` holds a plain pandas implementation of the same default rules,
used as a cross-check in the tests and as the benchmark baseline.
"""
from __future__ import annotations

from ._clean import ADDED_COLUMNS, FLAG_COLUMNS, clean_arrays, clean_minutes
from ._config import CADENCE_BANDS, DEFAULT, RULE_DEVICE, CleaningConfig, DeviceRuleWarning
from ._pipeline import process
from ._quality import SignalQuality, signal_quality
from ._truth import accuracy_vs_truth, daily_accuracy_vs_truth, has_truth
from ._daily import BAND_COLUMNS, COUNT_COLUMNS, DAILY_COLUMNS, daily_summary
from ._dataset import (
    bucket_of, partitions, read_daily, summarise_dataset, summarise_dataset_dask, summarise_partition, write_partitioned,
)

__all__ = [
    "accuracy_vs_truth", "daily_accuracy_vs_truth", "has_truth",
    "ADDED_COLUMNS", "BAND_COLUMNS", "CADENCE_BANDS", "COUNT_COLUMNS", "CleaningConfig", "DAILY_COLUMNS",
    "DEFAULT", "DeviceRuleWarning", "FLAG_COLUMNS", "RULE_DEVICE", "SignalQuality", "bucket_of", "clean_arrays", "clean_minutes", "daily_summary",
    "partitions", "process", "read_daily", "signal_quality", "summarise_dataset", "summarise_dataset_dask",
    "summarise_partition", "write_partitioned",
]
