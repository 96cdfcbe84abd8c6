"""``aggregate`` (DuckDB) and ``aggregate_dask`` (dask.dataframe): same arguments, same table."""
from __future__ import annotations

from typing import Literal, Sequence

import pandas as pd

from ..publish import suppression
from . import _duckdb, _metrics, _sources


def _check_by(by: Sequence[str] | str | None) -> list[str]:
    by = [by] if isinstance(by, str) else list(by or [])
    dup = {k for k in by if by.count(k) > 1}
    if dup:
        raise ValueError(f"grouping key(s) {sorted(dup)} given twice")
    return by


def aggregate(
    daily: _sources.Source,
    participants: _sources.Source | None,
    by: Sequence[str] | str = ("week",),
    metrics: Sequence[str] | str = _metrics.DEFAULT_METRICS,
    *,
    step_goal: float = 8000,
    threshold: int = suppression.DEFAULT_THRESHOLD,
    ci: Literal["participant"] = "participant",
    level: float = 0.95,
    start: str | None = None,
    end: str | None = None,
    weeks_since: tuple[int, int] | None = None,
    complement: str | Sequence[str] | None = None,
    con=None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Cohort table of daily-summary metrics by person attributes and time, with cluster-robust CIs.

    Parameters
    ----------
    daily : DataFrame, Parquet file / folder / glob / list, or Arrow dataset
        One row per participant-day: ``participant_id``, ``date``, ``steps``,
        ``valid_day`` (bool) and, for the metrics that need them,
        ``moderate_minutes``, ``vigorous_minutes``, ``resting_hr``.
    participants : same kinds, or None
        One row per person with ``participant_id`` and the attributes to group
        by. Only days of people listed here are counted (pass a filtered table
        to choose a sub-cohort). None is allowed when grouping by calendar keys only.
    by : grouping keys
        Any participants column (``programme``, ``arm``, ``district``,
        ``age_band``, ``sex``, ``wave``/``enrolment_wave`` ...), calendar keys
        ``date``, ``week`` (Monday), ``month``, ``quarter`` (first day of the
        period) and ``year``, and ``week_since_enrolment`` (whole weeks since
        ``enrolled_on``, or ``index_date`` when ``enrolled_on`` is missing, as for
        the comparison arm; negative before enrolment). Empty groups do not
        appear (no participant-day falls in them).
    metrics : names from :data:`METRICS`
        ``participants`` (persons with >= 1 day in the cell), ``participant_days``,
        ``valid_days``, ``valid_day_rate``; on valid days only: ``mean_steps``,
        ``median_steps``, ``sd_steps`` (steps/day over participant-days),
        ``goal_share`` (share of valid days with ``steps >= step_goal``),
        ``moderate_minutes``, ``vigorous_minutes`` (min/day), ``resting_hr`` (bpm).
    step_goal : steps/day for ``goal_share``.
    threshold : cells with fewer contributing participants are suppressed
        (:func:`evaluation.publish.suppression.primary`; 0 disables it, for research use).
    ci : ``"participant"``: every mean is a participant-day ratio estimator
        ``sum(y) / sum(days)`` with the cluster-robust (participant = cluster)
        linearisation variance and a t interval on (participants - 1) df -- the
        CR1 cluster-robust SE of an intercept-only OLS clustered by participant.
        Computed in SQL from per-participant sums.
    start, end : optional date bounds (inclusive) on ``date``.
    weeks_since : optional (first, last) whole weeks since enrolment to keep, inclusive
        (e.g. ``(0, 23)`` for the 24-week programme period).
    complement : grouping key(s) whose totals are published elsewhere (e.g. ``"district"``
        when the same weeks are also shown by sex): applies
        :func:`evaluation.publish.suppression.complement` so no withheld cell follows by subtraction.
    con, memory_limit, threads : an existing DuckDB connection, or settings for a new one.

    Returns
    -------
    DataFrame, one row per cell and metric: the ``by`` columns, ``metric``,
    ``n`` (participants behind the number), ``n_days`` (participant-days behind
    it), ``estimate``, ``se``, ``ci_low``, ``ci_high`` (95% by default; NaN for
    counts, median and SD), ``unit`` and ``suppressed``. Suppressed rows have
    ``n``, ``n_days``, ``estimate``, ``se`` and the CI blanked. For tables
    published with totals, also run :func:`evaluation.publish.suppression.protect`.
    """
    if ci != "participant":
        raise ValueError(f"ci must be 'participant', got {ci!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    by = _check_by(by)
    metrics = _metrics.check_metrics(metrics)
    own = con is None
    con = con or _sources.connect(memory_limit=memory_limit, threads=threads)
    try:
        cells = _duckdb.cell_sums(con, daily, participants, by, metrics, step_goal=step_goal, start=start, end=end,
                                     weeks_since=weeks_since)
    finally:
        if own:
            con.close()
    final = _metrics.finalise(cells, by, metrics, level=level)
    out = suppression.primary(final, threshold)
    if not (complement and threshold > 0):
        return out
    # the true counts let the complement step apply the protection level (withheld sums >= threshold)
    return suppression.complement(out, complement, by=by, protection=threshold, counts=final["n"].to_numpy())


def aggregate_dask(
    daily,
    participants: pd.DataFrame | str | None,
    by: Sequence[str] | str = ("week",),
    metrics: Sequence[str] | str = _metrics.DEFAULT_METRICS,
    *,
    step_goal: float = 8000,
    threshold: int = suppression.DEFAULT_THRESHOLD,
    level: float = 0.95,
    start: str | None = None,
    end: str | None = None,
    weeks_since: tuple[int, int] | None = None,
    client=None,
) -> pd.DataFrame:
    """The table of :func:`aggregate`, computed with dask.dataframe (e.g. on a ``distributed`` cluster).

    ``daily`` is a Parquet path/folder/glob (read lazily with ``dask.dataframe.read_parquet``)
    or a dask DataFrame; ``participants`` a pandas DataFrame or Parquet file (small:
    broadcast to every partition). ``client`` is a ``distributed.Client`` (the default
    scheduler when None). Same arguments and output as :func:`aggregate`.
    """
    from . import _dask

    by = _check_by(by)
    metrics = _metrics.check_metrics(metrics)
    cells = _dask.cell_sums(daily, participants, by, metrics, step_goal=step_goal, start=start, end=end,
                             weeks_since=weeks_since, client=client)
    out = _metrics.finalise(cells, by, metrics, level=level)
    return suppression.primary(out, threshold)
