"""Engagement: enrolment over time, weekly active participants, retention (Kaplan-Meier) and adherence.

Definitions (units in brackets):

* **enrolled** -- participants with an ``enrolled_on`` date (the comparison arm has none).
* **active** in a week -- at least one valid day (``valid_day``) that week [persons].
* **dropout** -- the first time a participant has ``gap_weeks`` (default 2)
  consecutive weeks without a valid day within the ``programme_weeks`` (default
  24) weeks after enrolment, as in the mobile-healthcare programme; time to
  dropout is the week the gap starts (weeks since enrolment, week 0 = the
  enrolment day and the 6 days after). Participants who reach the end of the
  programme without such a gap are censored at ``programme_weeks``; those whose
  data end (``as_of``) before that are censored at their last active week (the
  last week known to be gap-free; lifelines' convention keeps a subject censored
  at t in the risk set at t); those with no active week observed yet have no
  follow-up and are left out of the Kaplan-Meier risk sets.
* **retention curve** -- Kaplan-Meier survival of time to dropout
  (``statsmodels.duration.SurvfuncRight``), with Greenwood standard errors and a
  pointwise log(-log) 95% CI.
* **adherence** -- valid days per week [days/week, 0-7] among participants still
  in the programme (not yet dropped out) and observed that week.

Everything that scans the daily table runs in DuckDB (``cohort`` sources);
only one row per participant and week since enrolment reaches pandas.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..publish import i18n, suppression
from . import _sources

i18n.register({
    "retention": {"ko": "프로그램 유지율 (이탈 없음)", "en": "Retention (no dropout)"},
    "weekly_active": {"ko": "주간 활동 참여자 수", "en": "Weekly active participants"},
    "adherence": {"ko": "주당 유효 착용일", "en": "Valid days per week"},
    "new_enrolments": {"ko": "신규 등록자", "en": "New enrolments"},
    "cumulative_enrolments": {"ko": "누적 등록자", "en": "Cumulative enrolments"},
    "goal_share": {"ko": "목표 걸음 수 달성 비율", "en": "Share of days meeting the step goal"},
    "share": {"ko": "비율", "en": "Share"},
})

Freq = Literal["week", "month", "quarter"]


def _by(by: Sequence[str] | str | None) -> list[str]:
    return [by] if isinstance(by, str) else list(by or [])


# ------------------------------------------------------------------------------------- enrolment
def enrolment(participants: _sources.Source, *, freq: Freq = "month", by: Sequence[str] | str | None = None,
              threshold: int = suppression.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """New and cumulative enrolments per period (``period`` = first day of the week/month/quarter).

    Suppression: ``enrolled`` below ``threshold`` is withheld, and more months
    are withheld until the withheld ones of a group sum to at least
    ``threshold`` (its total is published elsewhere);
    ``cumulative`` is published only when it is at least ``threshold`` and the
    withheld new enrolments since the last published cumulative (and after the
    last one, up to the total) add up to 0 or at least ``threshold``
    (:func:`suppression.running_totals`) -- otherwise subtracting consecutive
    cumulatives would reveal a withheld count.
    """
    if freq not in ("week", "month", "quarter"):
        raise ValueError(f"freq must be 'week', 'month' or 'quarter', got {freq!r}")
    by = _by(by)
    con = _sources.connect()
    try:
        rel = _sources.relation(con, participants, "participants")
        cols = _sources.columns(con, rel)
        _sources.require(cols, ["participant_id", "enrolled_on"] + by, "participants")
        keys = "".join(f"{_sources.quote(k)}, " for k in by)
        df = con.execute(
            f"SELECT {keys}CAST(date_trunc('{freq}', CAST(enrolled_on AS DATE)) AS DATE) AS period, count(*) AS enrolled "
            f"FROM {rel} WHERE enrolled_on IS NOT NULL GROUP BY ALL ORDER BY ALL").df()
    finally:
        con.close()
    df["period"] = pd.to_datetime(df["period"]).astype("datetime64[ns]")
    out = []
    groups = df.groupby(by, observed=True, dropna=False, sort=True) if by else [((), df)]
    for _, g in groups:
        g = g.sort_values("period").copy()
        g["cumulative"] = g["enrolled"].cumsum()
        # the group's total is published elsewhere (e.g. the arm total of the district x arm table), so the
        # withheld months must sum to >= threshold: 199 - (38 + 53 + 45 + 54) must not give away a 9
        g["suppressed"] = suppression.protect_line(g["enrolled"], g["enrolled"] < threshold, threshold) if threshold else False
        g["cumulative_suppressed"] = ~suppression.running_totals(g["enrolled"], g["suppressed"], threshold)
        out.append(g)
    res = pd.concat(out, ignore_index=True) if out else df.assign(cumulative=[], suppressed=[], cumulative_suppressed=[])
    res["enrolled"] = res["enrolled"].astype("Int64").mask(res["suppressed"])
    res["cumulative"] = res["cumulative"].astype("Int64").mask(res["cumulative_suppressed"])
    return res[by + ["period", "enrolled", "cumulative", "suppressed", "cumulative_suppressed"]]


def enrolment_table(participants: pd.DataFrame | _sources.Source, rows: str = "district", cols: str | None = None, *,
                    threshold: int = suppression.DEFAULT_THRESHOLD,
                    linked: Sequence[str] = ("arm",)) -> suppression.SuppressedTable:
    """Enrolled participants by ``rows`` (x ``cols``) with totals, primary and complementary suppression.

    ``linked``: columns ``L`` for which the run also publishes all participants by
    ``rows`` x ``L`` (the overview's district x arm table, built with
    :func:`suppression.protect`). Solved together with that table, district x
    sex gave away cells of 3, 7 and 8; so the cross-table audit
    (:func:`evaluation.publish.disclosure.audit`) runs on both and withholds more cells
    of this table (reason ``"linked"``) until nothing below ``threshold`` follows.
    """
    con = _sources.connect()
    try:
        rel = _sources.relation(con, participants, "participants")
        keys = [rows] + ([cols] if cols else [])
        have = _sources.columns(con, rel)
        _sources.require(have, ["enrolled_on"] + keys, "participants")
        sel = ", ".join(_sources.quote(k) for k in keys)
        df = con.execute(f"SELECT {sel}, count(*) AS enrolled FROM {rel} WHERE enrolled_on IS NOT NULL GROUP BY ALL").df()
        companions = {}
        for col in [c for c in linked if c in have and c not in keys and cols]:
            q = f"SELECT {_sources.quote(rows)}, CAST({_sources.quote(col)} AS VARCHAR) AS {_sources.quote(col)}, count(*) AS participants FROM {rel} GROUP BY ALL"
            companions[col] = con.execute(q).df()
    finally:
        con.close()
    if cols is None:
        df["_all"] = i18n.t("enrolled", "en")
        return suppression.protect(df, rows=rows, cols="_all", value="enrolled", threshold=threshold, totals="cols")
    t = suppression.protect(df, rows=rows, cols=cols, value="enrolled", threshold=threshold, totals="both")
    for col, comp in companions.items():
        if threshold > 0:
            other = suppression.protect(comp, rows=rows, cols=col, value="participants", threshold=threshold).summary()
            _protect_linked(t, other, rows, cols, col, threshold)
            suppression.secondary(t)  # the table on its own must stay protected around the new cells
    return t


def _protect_linked(t: suppression.SuppressedTable, other: pd.DataFrame, rows: str, cols: str, col: str,
                    threshold: int) -> None:
    """Withhold more cells of ``t`` until, solved with the published ``other`` table, nothing small follows."""
    from ..publish import disclosure

    mine = t.summary()
    tables = {"other": other, "mine": mine}
    readers = {"other": disclosure.two_way(rows, col, "participants"),
               "mine": disclosure.two_way(rows, cols, t.value_name, enrolled_only=True)}
    before = mine[t.value_name].isna().to_numpy()
    disclosure.audit(tables, threshold=threshold, readers=readers, editable={"mine"})
    newly = mine[t.value_name].isna().to_numpy() & ~before
    for _, r in mine[newly].iterrows():
        rv, cv = r[rows], r[cols]
        if rv is not None and cv is not None and not pd.isna(rv) and not pd.isna(cv):
            i, j = t.values.index.get_loc(rv), t.values.columns.get_loc(cv)
            t.suppressed.iat[i, j] = True
            t.reason.iat[i, j] = "linked"
        elif rv is not None and not pd.isna(rv):
            t.row_total_suppressed.loc[rv] = True
        elif cv is not None and not pd.isna(cv):
            t.col_total_suppressed.loc[cv] = True
        else:
            t.grand_suppressed = True


# ------------------------------------------------------------------------------------- weekly active
def weekly_active(daily: _sources.Source, participants: _sources.Source, *, by: Sequence[str] | str | None = None,
                  threshold: int = suppression.DEFAULT_THRESHOLD, memory_limit: str | None = None,
                  threads: int | None = None) -> pd.DataFrame:
    """Enrolled participants with >= 1 valid day on or after their enrolment, per calendar week.

    Columns: ``week`` (Monday), the ``by`` columns, ``active`` [persons],
    ``enrolled`` (``enrolled_on`` on or before the week's Sunday) and
    ``active_share``; weeks with fewer than ``threshold`` active or enrolled
    participants are suppressed. ``enrolled`` is a running total, so it (and
    ``active_share``) is also withheld (``enrolled_suppressed``) where the
    difference to the previous shown week would reveal fewer than
    ``threshold`` enrolments (:func:`suppression.running_totals`).
    """
    by = _by(by)
    con = _sources.connect(memory_limit=memory_limit, threads=threads)
    try:
        drel = _sources.relation(con, daily, "daily")
        _sources.require(_sources.columns(con, drel), ["participant_id", "date", "valid_day"], "daily")
        prel = _sources.relation(con, participants, "participants")
        _sources.require(_sources.columns(con, prel), ["participant_id", "enrolled_on"] + by, "participants")
        keys = "".join(f"p.{_sources.quote(k)}, " for k in by)
        okeys = "".join(f"{_sources.quote(k)}, " for k in by)
        act = con.execute(f"""
            SELECT {keys}CAST(date_trunc('week', CAST(d.date AS DATE)) AS DATE) AS week,
                   count(DISTINCT d.participant_id) AS active
            FROM {drel} d JOIN {prel} p ON d.participant_id = p.participant_id
            WHERE p.enrolled_on IS NOT NULL AND d.valid_day AND CAST(d.date AS DATE) >= CAST(p.enrolled_on AS DATE)
            GROUP BY ALL""").df()
        weeks = con.execute(f"""
            SELECT DISTINCT CAST(date_trunc('week', CAST(date AS DATE)) AS DATE) AS week FROM {drel}""").df()
        enrol = con.execute(f"""
            SELECT {okeys}CAST(date_trunc('week', CAST(enrolled_on AS DATE)) AS DATE) AS week, count(*) AS new
            FROM {prel} WHERE enrolled_on IS NOT NULL GROUP BY ALL""").df()
    finally:
        con.close()
    for f in (act, weeks, enrol):
        f["week"] = pd.to_datetime(f["week"]).astype("datetime64[ns]")
    # every (group, week with data) row, so weeks with nobody active still show
    groups = enrol[by].drop_duplicates() if by else pd.DataFrame(index=[0])
    grid = groups.merge(weeks, how="cross").sort_values(by + ["week"]).reset_index(drop=True)
    grid = grid.merge(act, on=by + ["week"], how="left").merge(enrol, on=by + ["week"], how="left")
    grid[["active", "new"]] = grid[["active", "new"]].fillna(0).astype("int64")
    # enrolments before the first week with data still count towards the running total
    before = enrol[enrol["week"] < grid["week"].min()] if len(grid) else enrol.iloc[:0]
    base = before.groupby(by, observed=True)["new"].sum().rename("_base").reset_index() if by else None
    if by:
        grid = grid.merge(base, on=by, how="left")
        grid["_base"] = grid["_base"].fillna(0)
        grid["enrolled"] = grid.groupby(by, observed=True)["new"].cumsum() + grid["_base"]
    else:
        grid["enrolled"] = grid["new"].cumsum() + before["new"].sum()
    grid["enrolled"] = grid["enrolled"].astype("int64")
    grid["active_share"] = grid["active"] / grid["enrolled"].where(grid["enrolled"] > 0)
    # `enrolled` is a running total: week-to-week differences are the week's enrolments, which are not
    # published, so a week's total is shown only where the enrolments since the last shown week (and after
    # the last one, up to the total published elsewhere) are 0 or >= threshold
    if threshold > 0:
        keys = grid.groupby(by, observed=True, sort=False).indices.values() if by else [np.arange(len(grid))]
        shown = np.zeros(len(grid), bool)
        for idx in keys:
            idx = np.asarray(idx)
            base = float(grid["enrolled"].iloc[idx[0]] - grid["new"].iloc[idx[0]]) if len(idx) else 0.0
            new = np.concatenate([[base], grid["new"].to_numpy(float)[idx]])
            shown[idx] = suppression.running_totals(new, np.ones(len(new), bool), threshold)[1:]
    else:
        shown = np.ones(len(grid), bool)
    grid["suppressed"] = (grid["active"] < threshold) | (grid["enrolled"] < threshold)
    out = suppression.mask(grid[by + ["week", "active", "enrolled", "active_share", "suppressed"]],
                           columns=("active", "enrolled", "active_share"))
    # a share next to a published count would give the withheld total back (active / share)
    out["enrolled"] = out["enrolled"].mask(~shown)
    out["active_share"] = out["active_share"].mask(~shown)
    out["enrolled_suppressed"] = ~shown | out["suppressed"]
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------- retention
def participant_weeks(daily: _sources.Source, participants: _sources.Source, *, programme_weeks: int = 24,
                      by: Sequence[str] | str | None = None, as_of: str | None = None,
                      memory_limit: str | None = None, threads: int | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per enrolled participant: attributes, valid days in each programme week, and weeks observed.

    Returns ``(people, valid_days, observed_weeks)``: ``people`` (one row per
    enrolled participant, the ``by`` columns), ``valid_days`` (people x
    ``programme_weeks`` int array) and ``observed_weeks`` (int array: whole
    programme weeks that ended on or before ``as_of``, default the last date in ``daily``).
    Internal building block (it is participant-level: never store it for staff).
    """
    by = _by(by)
    con = _sources.connect(memory_limit=memory_limit, threads=threads)
    try:
        drel = _sources.relation(con, daily, "daily")
        _sources.require(_sources.columns(con, drel), ["participant_id", "date", "valid_day"], "daily")
        prel = _sources.relation(con, participants, "participants")
        pcols = _sources.columns(con, prel)
        _sources.require(pcols, ["participant_id", "enrolled_on"] + by, "participants")
        if as_of is None:
            as_of = con.execute(f"SELECT max(CAST(date AS DATE)) FROM {drel}").fetchone()[0]
        as_of = pd.Timestamp(as_of)
        sel = "".join(f", {_sources.quote(k)}" for k in by)
        people = con.execute(
            f"SELECT participant_id, CAST(enrolled_on AS DATE) AS enrolled_on{sel} FROM {prel} "
            f"WHERE enrolled_on IS NOT NULL ORDER BY participant_id").df()
        weeks = con.execute(f"""
            WITH w AS (
                SELECT d.participant_id,
                       CAST(floor(date_diff('day', CAST(p.enrolled_on AS DATE), CAST(d.date AS DATE)) / 7.0) AS INTEGER) AS wk,
                       d.valid_day
                FROM {drel} d JOIN {prel} p ON d.participant_id = p.participant_id
                WHERE p.enrolled_on IS NOT NULL)
            SELECT participant_id, wk, count(*) FILTER (WHERE valid_day) AS valid_days
            FROM w WHERE wk >= 0 AND wk < {int(programme_weeks)} GROUP BY ALL""").df()
    finally:
        con.close()
    people["enrolled_on"] = pd.to_datetime(people["enrolled_on"])
    row = pd.Index(people["participant_id"]).get_indexer(weeks["participant_id"])
    vd = np.zeros((len(people), programme_weeks), dtype=np.int16)
    vd[row, weeks["wk"].to_numpy(int)] = weeks["valid_days"].to_numpy()
    days_seen = (as_of - people["enrolled_on"]).dt.days.to_numpy() + 1
    observed = np.clip(days_seen // 7, 0, programme_weeks).astype(int)
    return people.drop(columns=["participant_id"]), vd, observed


def dropout_times(valid_days: np.ndarray, observed_weeks: np.ndarray, *, gap_weeks: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Time to dropout (weeks since enrolment) and event flag per participant (definitions in the module doc).

    Censored participants get the last week known to be gap-free (their last
    active week); those with no such week (no follow-up yet) get NaN and stay
    out of the Kaplan-Meier risk sets.
    """
    n, weeks = valid_days.shape
    active = valid_days > 0
    time = np.empty(n, float)
    event = np.zeros(n, bool)
    w_idx = np.arange(weeks)
    for i in range(n):  # 24 weeks per person: a short loop is clearer than a vectorised window
        obs = observed_weeks[i]
        a = active[i, :obs]
        inactive = ~a
        if obs >= gap_weeks:
            run = np.ones(obs - gap_weeks + 1, bool)
            for k in range(gap_weeks):
                run &= inactive[k: obs - gap_weeks + 1 + k]
            hits = w_idx[: obs - gap_weeks + 1][run]
        else:
            hits = np.array([], int)
        if hits.size:
            time[i], event[i] = hits[0], True
        elif obs >= weeks:
            time[i] = weeks
        else:
            # Censored at the last week known to be gap-free, the last active week: a gap could still start
            # in the trailing inactive run. lifelines' (and statsmodels') convention keeps a subject censored
            # at t in the risk set at t, i.e. counts it as having no event at t, so t must be a week we saw.
            trail = 0
            while trail < obs and inactive[obs - 1 - trail]:
                trail += 1
            last_safe = obs - trail - 1
            # no active week observed yet (e.g. 0 observed weeks): no follow-up, not in any risk set
            time[i] = last_safe if last_safe >= 0 else np.nan
    return time, event


@dataclass
class Retention:
    """Retention by week since enrolment for each group.

    Attributes
    ----------
    table : tidy DataFrame: the ``by`` columns, ``week``, ``at_risk``, ``events``
        (dropouts from ``week_from`` up to ``week``), ``survival`` (KM probability of
        no dropout by the end of week-1, i.e. still in at the start of ``week``),
        ``ci_low``, ``ci_high``, ``share_active`` (active / observed that week),
        ``adherence`` (mean valid days per week among those retained and observed,
        with ``adherence_ci_low/high``), ``suppressed``. With a threshold, weeks
        whose differences would reveal fewer than ``threshold`` dropouts or
        censorings are withheld (coarsened time grid), and the head counts
        ``observed``, ``active``, ``adherence_n`` are not published (rates only).
    retention_ : dict group -> KM survival at ``programme_weeks`` (NaN if suppressed).
    """

    table: pd.DataFrame
    by: list[str]
    programme_weeks: int
    gap_weeks: int
    retention_: dict

    def summary(self) -> pd.DataFrame:
        return self.table

    def plot(self, ax=None, lang: str = "ko", table: pd.DataFrame | None = None):
        """KM retention curves with CI bands; suppressed weeks are left blank and marked.

        ``table`` is the published retention table (``Recorder.stats_table``: KM steps rounded, withheld where
        too few are at risk) to draw what staff see; a withheld week is a gap in the curve. Without it the
        unprotected table is drawn (researchers' view)."""
        import matplotlib.pyplot as plt
        from matplotlib.transforms import blended_transform_factory

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        source = self.table if table is None else table
        groups = source.groupby(self.by, observed=True, dropna=False) if self.by else [("all", source)]
        bottom = blended_transform_factory(ax.transData, ax.transAxes)  # marks at the foot of the axes, not values
        for key, g in groups:
            label = " / ".join(i18n.t(str(k), lang) for k in (key if isinstance(key, tuple) else (key,)))
            sup = g[g["suppressed"].astype(bool)]
            if table is None:
                g = g.dropna(subset=["survival"])  # weeks withheld by the coarsening: the step spans them
            surv = pd.to_numeric(g["survival"], errors="coerce").astype(float)
            line, = ax.step(g["week"], surv, where="post", label=label)
            ax.fill_between(g["week"], pd.to_numeric(g["ci_low"], errors="coerce").astype(float),
                            pd.to_numeric(g["ci_high"], errors="coerce").astype(float), step="post", alpha=0.2,
                            color=line.get_color())
            if len(sup):
                ax.plot(sup["week"], np.full(len(sup), 0.02), "x", color=line.get_color(), transform=bottom)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(i18n.t("weeks_since_enrolment", lang))
        ax.set_ylabel(i18n.t("retention", lang))
        ax.legend(fontsize="small")
        if source["suppressed"].astype(bool).any():
            ax.annotate(i18n.t("suppressed_note", lang).format(k=""), (0.01, 0.01), xycoords="axes fraction", fontsize=8)
        return ax

    def plot_adherence(self, ax=None, lang: str = "ko", table: pd.DataFrame | None = None,
                       programme_weeks: int | None = None):
        """Mean valid days per week (0-7) since enrolment with its 95% CI band, per group, from ``table`` (the
        published retention table: means withheld where too few are at risk are gaps) or the unprotected one."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        source = self.table if table is None else table
        groups = source.groupby(self.by, observed=True, dropna=False) if self.by else [("all", source)]
        for key, g in groups:
            if programme_weeks is not None:
                g = g[g["week"] < programme_weeks]
            label = " / ".join(i18n.t(str(k), lang) for k in (key if isinstance(key, tuple) else (key,)))
            num = {c: pd.to_numeric(g[c], errors="coerce").astype(float)
                   for c in ("adherence", "adherence_ci_low", "adherence_ci_high")}
            line, = ax.plot(g["week"], num["adherence"], marker=".", label=label)
            ax.fill_between(g["week"], num["adherence_ci_low"], num["adherence_ci_high"], alpha=0.2,
                            color=line.get_color())
        ax.set_ylim(0, 7)
        ax.set_xlabel(i18n.t("weeks_since_enrolment", lang))
        ax.set_ylabel(i18n.t("adherence", lang))
        ax.legend(fontsize="small")
        return ax


def _km_at(time: np.ndarray, event: np.ndarray, weeks: int, level: float):
    from statsmodels.duration.survfunc import SurvfuncRight

    grid = np.arange(weeks + 1)
    keep = ~np.isnan(time)
    time, event = time[keep], event[keep]
    if len(time) == 0:
        nan = np.full(len(grid), np.nan)
        return nan, nan, nan, np.zeros(len(grid), int), np.zeros(len(grid), int)
    at_risk = np.array([(time >= w).sum() for w in grid])
    events = np.array([((time == w) & event).sum() for w in grid])
    if not event.any():
        ones = np.ones(len(grid))
        return ones, ones, ones, at_risk, events
    sf = SurvfuncRight(time, event.astype(int))
    # survival at the *start* of week w: events strictly before w
    idx = np.searchsorted(sf.surv_times, grid, side="left") - 1
    s = np.where(idx >= 0, sf.surv_prob[np.maximum(idx, 0)], 1.0)
    se = np.where(idx >= 0, sf.surv_prob_se[np.maximum(idx, 0)], 0.0)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log(-log) interval (Kalbfleisch-Prentice), bounded in (0, 1)
        v = se / (s * np.log(s))
        lo = s ** np.exp(-z * v)
        hi = s ** np.exp(z * v)
    lo = np.where((s >= 1) | (s <= 0), s, np.minimum(lo, hi))
    hi = np.where((s >= 1) | (s <= 0), s, np.maximum(s ** np.exp(-z * v), s ** np.exp(z * v)))
    return s, lo, hi, at_risk, events


def _removals(time: np.ndarray, event: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dropouts and censorings that separate ``at_risk`` at grid point w-1 from w (index w; 0 at w=0)."""
    ok = ~np.isnan(time)
    t, e = time[ok], event[ok]
    ev = np.array([((t == w) & e).sum() for w in grid], float)
    ce = np.array([((t == w) & ~e).sum() for w in grid], float)
    return np.concatenate([[0.0], ev[:-1]]), np.concatenate([[0.0], ce[:-1]])


def _grid(series: list[tuple[np.ndarray, np.ndarray, np.ndarray]], threshold: int) -> np.ndarray:
    """Weeks to show, common to all groups: ``series`` holds (dropout increments, censoring increments, at_risk).

    ``at_risk`` falls each week by that week's dropouts plus censorings, so a week
    is shown only where, in every group, the dropouts and the censorings since the
    previous shown week each add up to 0 or at least ``threshold`` -- differencing
    two shown weeks (or a group against the pooled curve) then reveals no small
    count. The last week (the headline retention) is kept by giving up earlier weeks.
    """
    def safe(x: float) -> bool:
        return x == 0 or x >= threshold

    n = len(series[0][0])
    shown = np.zeros(n, bool)
    shown[0] = all(r[0] >= threshold for _, _, r in series)
    if not shown[0]:
        return shown
    acc = np.zeros((len(series), 2))
    for w in range(1, n):
        acc += [[ev[w], ce[w]] for ev, ce, _ in series]
        if all(safe(x) for x in acc.ravel()) and all(r[w] >= threshold for _, _, r in series):
            shown[w] = True
            acc[:] = 0.0

    def tail_ok(last: int) -> bool:
        return all(safe(ev[last + 1:].sum()) and safe(ce[last + 1:].sum()) for ev, ce, _ in series)

    if not shown[-1] and all(r[-1] >= threshold for _, _, r in series):
        while True:
            last = np.flatnonzero(shown[:-1])[-1]
            if last == 0 or tail_ok(last):
                break
            shown[last] = False
        shown[-1] = tail_ok(last)
    return shown


def _fill(frame: pd.DataFrame, shown: np.ndarray, time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """``week_from`` (previous shown week) and ``events`` (dropouts from ``week_from`` up to ``week``) at shown weeks."""
    grid = frame["week"].to_numpy()
    ok = ~np.isnan(time)
    ev = np.array([((time[ok] == w) & event[ok]).sum() for w in grid], float)
    idx = np.flatnonzero(shown)
    prev = np.concatenate([[0], idx[:-1]])
    frame = frame.copy()
    frame["week_from"] = np.nan
    frame.loc[frame.index[idx], "week_from"] = grid[prev]
    cum_ev = np.concatenate([[0.0], np.cumsum(ev)])  # cum_ev[w] = dropouts in weeks < w
    frame["events"] = np.nan
    frame.loc[frame.index[idx], "events"] = cum_ev[grid[idx]] - cum_ev[grid[prev]]
    return frame


def retention(daily: _sources.Source, participants: _sources.Source, *, by: Sequence[str] | str | None = None,
              programme_weeks: int = 24, gap_weeks: int = 2, as_of: str | None = None,
              threshold: int = suppression.DEFAULT_THRESHOLD, level: float = 0.95, total: bool = False,
              **kwargs) -> Retention:
    """Kaplan-Meier retention, weekly share active and adherence by week since enrolment (see module doc).

    ``total`` (with ``by``) adds the pooled curve as rows whose ``by`` columns read
    ``"all"``, on the same coarsened week grid as the groups: published side by
    side, separately coarsened curves would give small counts away by subtraction.
    """
    by = _by(by)
    if programme_weeks < gap_weeks or gap_weeks < 1:
        raise ValueError(f"need 1 <= gap_weeks <= programme_weeks, got gap_weeks={gap_weeks}, programme_weeks={programme_weeks}")
    people, vd, observed = participant_weeks(daily, participants, programme_weeks=programme_weeks, by=by, as_of=as_of, **kwargs)
    time, event = dropout_times(vd, observed, gap_weeks=gap_weeks)
    rows, headline = [], {}
    groups = dict(people.groupby(by, observed=True, dropna=False).indices) if by else {"all": np.arange(len(people))}
    grid = np.arange(programme_weeks + 1)
    # groups too small to show; with more than one group their total is published elsewhere (and as the
    # pooled "all" rows with ``total``), so the withheld groups must add up to at least the threshold
    keys = list(groups)
    sizes = np.array([len(groups[k]) for k in keys], float)
    small = sizes < threshold
    if by and threshold > 0 and len(keys) > 1:
        small = suppression.protect_line(sizes, small, threshold)
    small_of = dict(zip(keys, small))
    if total and by:
        key_all = tuple("all" for _ in by) if len(by) > 1 else "all"
        groups[key_all] = np.arange(len(people))
        small_of[key_all] = len(people) < threshold
    shown = np.ones(len(grid), bool)
    if threshold > 0:
        series = [(*_removals(time[idx], event[idx], grid), np.array([(time[idx] >= w).sum() for w in grid]))
                  for k, idx in groups.items() if not small_of[k]]
        rest = np.concatenate([groups[k] for k in keys if small_of[k]] or [np.array([], int)])
        if len(rest) and series and not small_of.get(key_all if total and by else None, True):
            # the pooled curve minus the shown groups is the withheld groups' curve: same rule for it
            ev, ce = _removals(time[rest], event[rest], grid)
            series.append((ev, ce, np.full(len(grid), float(threshold))))
        shown = _grid(series, threshold) if series else np.zeros(len(grid), bool)
    for key, idx in groups.items():
        s, lo, hi, at_risk, events = _km_at(time[idx], event[idx], programme_weeks, level)
        obs_w = np.array([(observed[idx] > w).sum() for w in grid])
        act_w = np.array([((observed[idx] > w) & (vd[idx, min(w, programme_weeks - 1)] > 0)).sum() if w < programme_weeks else 0 for w in grid])
        adh, adh_lo, adh_hi, adh_n = [], [], [], []
        for w in grid:
            if w >= programme_weeks:
                adh.append(np.nan); adh_lo.append(np.nan); adh_hi.append(np.nan); adh_n.append(0)
                continue
            still = (observed[idx] > w) & ~(event[idx] & (time[idx] <= w))
            x = vd[idx][still, w].astype(float)
            m = len(x)
            mean = x.mean() if m else np.nan
            half = stats.t.ppf(0.5 + level / 2, m - 1) * x.std(ddof=1) / np.sqrt(m) if m > 1 else np.nan
            adh.append(mean); adh_lo.append(mean - half); adh_hi.append(mean + half); adh_n.append(m)
        frame = pd.DataFrame({"week": grid, "at_risk": at_risk, "events": events, "survival": s, "ci_low": lo, "ci_high": hi,
                              "observed": obs_w, "active": act_w,
                              "share_active": np.where(obs_w > 0, act_w / np.maximum(obs_w, 1), np.nan),
                              "adherence": adh, "adherence_ci_low": adh_lo, "adherence_ci_high": adh_hi, "adherence_n": adh_n})
        keyt = key if isinstance(key, tuple) else (key,)
        for pos, (k, v) in enumerate(zip(by, keyt)):
            frame.insert(pos, k, v)
        group_small = bool(small_of[key])
        if threshold > 0:
            frame = _fill(frame, shown, time[idx], event[idx])
        else:
            frame["week_from"] = np.maximum(frame["week"] - 1, 0)
        frame["suppressed"] = group_small | (frame["at_risk"] < threshold) | (~shown if threshold > 0 else False)
        frame.loc[frame["observed"] < threshold, ["share_active"]] = np.nan
        # a share with the denominator known elsewhere gives back its numerator: withhold it when the active or
        # the inactive count is small
        small_share = (frame["active"] < threshold) | (frame["observed"] - frame["active"]).between(1, threshold - 1)
        frame.loc[small_share & (threshold > 0), ["share_active"]] = np.nan
        frame.loc[frame["adherence_n"] < threshold, ["adherence", "adherence_ci_low", "adherence_ci_high"]] = np.nan
        frame = suppression.mask(frame, columns=("survival", "ci_low", "ci_high", "at_risk", "events", "week_from"))
        if group_small:
            frame[["share_active", "adherence", "adherence_ci_low", "adherence_ci_high"]] = np.nan
        headline[key] = float(frame["survival"].iloc[-1]) if not frame["suppressed"].iloc[-1] else np.nan
        if threshold > 0:
            # counts whose week-to-week differences are small dropout / end-of-data counts: rates only
            frame = frame.drop(columns=["observed", "active", "adherence_n"])
        rows.append(frame)
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return Retention(table=table, by=by, programme_weeks=programme_weeks, gap_weeks=gap_weeks, retention_=headline)


def adherence(daily: _sources.Source, participants: _sources.Source, **kwargs) -> pd.DataFrame:
    """Valid days per week by week since enrolment (the adherence columns of :func:`retention`)."""
    r = retention(daily, participants, **kwargs)
    cols = r.by + ["week", "adherence", "adherence_ci_low", "adherence_ci_high"]
    cols += ["adherence_n"] if "adherence_n" in r.table else []  # head counts only without suppression
    return r.table.loc[r.table["week"] < r.programme_weeks, cols].reset_index(drop=True)
