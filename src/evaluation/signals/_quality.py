"""Signal-quality report: row accounting, quarantine reasons, wear time, valid days, flags by day.

:func:`signal_quality` turns a daily table (and optionally ingest's row
accounting) into a :class:`SignalQuality` result whose tables are aggregated
over participants and small-cell suppressed (fewer than ``min_cell``
participants), so they can go to staff dashboards.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..publish import i18n
from ._daily import COUNT_COLUMNS

i18n.register({
    "sq_rows": {"ko": "행 수", "en": "Rows"},
    "sq_kept": {"ko": "사용", "en": "Kept"},
    "sq_row_accounting": {"ko": "입력 행 처리 결과", "en": "Row accounting at ingest"},
    "sq_wear_hist": {"ko": "하루 착용 시간 분포 (참여자-일)", "en": "Daily wear time (person-days)"},
    "sq_wear_hours": {"ko": "착용 시간 (시간)", "en": "Wear time (hours)"},
    "sq_person_days": {"ko": "참여자-일 수", "en": "Person-days"},
    "sq_valid_by_date": {"ko": "날짜별 유효 착용일 비율", "en": "Share of valid days by date"},
    "sq_valid_share": {"ko": "유효일 비율", "en": "Share valid"},
    "sq_flags_by_day": {"ko": "날짜별 품질 플래그 (분)", "en": "Quality flags by date (minutes)"},
    "sq_minutes": {"ko": "분", "en": "Minutes"},
    "sq_valid_line": {"ko": "유효일 기준", "en": "Valid-day threshold"},
    "sq_median_wear_by_date": {"ko": "날짜별 하루 착용 시간 중앙값", "en": "Median daily wear time by date"},
    "sq_median_wear_minutes": {"ko": "착용 시간 중앙값 (분)", "en": "Median wear (minutes)"},
    "n_duplicate": {"ko": "중복 분", "en": "Duplicate minutes"},
    "n_conflict": {"ko": "값 충돌", "en": "Conflicting copies"},
    "n_hr_implausible": {"ko": "비정상 심박수", "en": "Implausible HR"},
    "n_hr_stuck": {"ko": "고정된 심박수", "en": "Stuck HR"},
    "n_steps_implausible": {"ko": "비정상 걸음 수", "en": "Implausible steps"},
    "n_nonwear": {"ko": "미착용", "en": "Non-wear"},
    "n_gap": {"ko": "동기화 누락 구간", "en": "Sync gaps"},
    "n_clock_offset": {"ko": "시계 오차 의심", "en": "Possible clock offset"},
    "missing_participant": {"ko": "참여자 ID 없음", "en": "Missing participant id"},
    "unparseable_ts": {"ko": "시각 해석 불가", "en": "Unparseable time"},
    "unparseable_steps": {"ko": "걸음 수 해석 불가", "en": "Unparseable steps"},
    "non_integer_steps": {"ko": "정수가 아닌 걸음 수", "en": "Non-integer steps"},
    "unparseable_heart_rate": {"ko": "심박수 해석 불가", "en": "Unparseable heart rate"},
    "unknown_participant": {"ko": "미등록 참여자", "en": "Unknown participant"},
    "out_of_period": {"ko": "기간 밖", "en": "Out of period"},
})


@dataclass
class SignalQuality:
    """Headline quality figures (attributes) and staff-safe tables (methods).

    Attributes: ``rows_in``, ``rows_kept``, ``rows_quarantined`` (ingest; equal
    to the minute rows when no accounting was given), ``quarantine_by_reason``,
    ``participants``, ``participant_days``, ``valid_days``,
    ``share_valid_days``, ``median_wear_minutes``, ``nonwear_share`` (share of
    recorded minutes flagged non-wear), ``flag_minutes`` (totals per flag).
    """

    daily: pd.DataFrame = field(repr=False)
    valid_day_minutes: int = 600
    min_cell: int = 10
    rows_in: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    participants: int = 0
    participant_days: int = 0
    valid_days: int = 0
    share_valid_days: float = float("nan")
    median_wear_minutes: float = float("nan")
    nonwear_share: float = float("nan")
    flag_minutes: dict[str, int] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Tidy (metric, value) table of the headline figures."""
        rows = [(k, getattr(self, k)) for k in (
            "rows_in", "rows_kept", "rows_quarantined", "participants", "participant_days", "valid_days",
            "share_valid_days", "median_wear_minutes", "nonwear_share")]
        rows += [(f"quarantined_{k}", v) for k, v in sorted(self.quarantine_by_reason.items())]
        rows += [(f"flag_{k}", v) for k, v in self.flag_minutes.items()]
        return pd.DataFrame(rows, columns=["metric", "value"])

    def accounting_table(self) -> pd.DataFrame:
        """Rows kept and quarantined by reason (row counts, not people)."""
        rows = [("kept", self.rows_kept)] + sorted(self.quarantine_by_reason.items())
        df = pd.DataFrame(rows, columns=["outcome", "rows"])
        df["share"] = df["rows"] / self.rows_in if self.rows_in else np.nan
        return df

    def valid_by_date(self) -> pd.DataFrame:
        """Per date: participants with data ``n``, share of valid days, median wear (suppressed when n < min_cell)."""
        g = self.daily.groupby("date")
        df = pd.DataFrame({
            "n": g["participant_id"].nunique(),
            "valid_share": g["valid_day"].mean(),
            "median_wear_minutes": g["wear_minutes"].median(),
        }).reset_index()
        small = df["n"] < self.min_cell
        df["suppressed"] = small
        df.loc[small, ["n", "valid_share", "median_wear_minutes"]] = np.nan
        return df

    def wear_histogram(self, width_h: int = 2) -> pd.DataFrame:
        """Person-days per wear-time bin of ``width_h`` hours; bins from fewer than min_cell people suppressed."""
        edges = np.arange(0, 24 + width_h, width_h) * 60
        # 1,440 minutes (a full day) belongs to the last bin
        b = pd.cut(self.daily["wear_minutes"].clip(upper=edges[-1] - 1), edges, right=False)
        bins = pd.IntervalIndex.from_breaks(edges, closed="left")
        days = self.daily.groupby(b, observed=False).size().reindex(bins, fill_value=0)
        people = self.daily.groupby(b, observed=False)["participant_id"].nunique().reindex(bins, fill_value=0)
        df = pd.DataFrame({"wear_hours_from": edges[:-1] / 60, "wear_hours_to": edges[1:] / 60,
                           "person_days": days.to_numpy().astype(float), "n": people.to_numpy().astype(float)})
        small = (df["n"] > 0) & (df["n"] < self.min_cell)
        df["suppressed"] = small
        df.loc[small, ["person_days", "n"]] = np.nan
        return df

    def flags_by_day(self) -> pd.DataFrame:
        """Long table: date, flag, minutes flagged, participants with the flag, n with data (suppressed if small)."""
        d = self.daily
        long = d.melt(id_vars=["participant_id", "date"], value_vars=list(COUNT_COLUMNS), var_name="flag", value_name="minutes")
        g = long.groupby(["date", "flag"])
        df = pd.DataFrame({"minutes": g["minutes"].sum(), "participants_flagged": g["minutes"].apply(lambda s: int((s > 0).sum()))}).reset_index()
        n = d.groupby("date")["participant_id"].nunique().rename("n")
        df = df.merge(n, left_on="date", right_index=True)
        small = df["n"] < self.min_cell
        df["suppressed"] = small
        df.loc[small, ["minutes", "participants_flagged", "n"]] = np.nan
        # a flag seen in 1-9 people is a small cell of its own (the minutes stay: they count no one)
        few = df["participants_flagged"].between(1, self.min_cell - 1)
        df["flagged_suppressed"] = few
        df.loc[few, "participants_flagged"] = np.nan
        return df

    def conclusion(self, lang: str = "ko") -> str:
        """A few plain-language sentences for staff, in ``lang``."""
        i18n.check_lang(lang)
        pq = 100 * self.rows_quarantined / self.rows_in if self.rows_in else 0.0
        if lang == "ko":
            return (
                f"- 입력된 분 단위 기록 {self.rows_in:,}행 중 {self.rows_kept:,}행을 사용했고 "
                f"{self.rows_quarantined:,}행({pq:.1f}%)은 사유와 함께 격리했습니다. 버려진 행은 없습니다.\n"
                f"- 참여자-일 {self.participant_days:,}일 중 {100 * self.share_valid_days:.0f}%가 하루 "
                f"{self.valid_day_minutes // 60}시간 이상 착용한 유효일입니다(하루 착용 시간 중앙값 {self.median_wear_minutes / 60:.1f}시간).\n"
                f"- 기록된 시간의 {100 * self.nonwear_share:.0f}%는 밴드를 차지 않은 시간으로 판정되어 걸음 수 집계에서 제외했습니다. "
                "수면 중(심박수 있음, 걸음 0)은 착용으로 봅니다.\n"
                "- 걸음 수 평가는 유효일만 사용하므로, 착용률이 낮은 집단은 결과 해석에 주의가 필요합니다."
            )
        return (
            f"- Of {self.rows_in:,} minute rows received, {self.rows_kept:,} were used and {self.rows_quarantined:,} "
            f"({pq:.1f}%) were quarantined with a reason. No row was dropped silently.\n"
            f"- {100 * self.share_valid_days:.0f}% of {self.participant_days:,} person-days are valid days "
            f"(worn at least {self.valid_day_minutes // 60} h; median wear {self.median_wear_minutes / 60:.1f} h).\n"
            f"- {100 * self.nonwear_share:.0f}% of recorded minutes were judged non-wear and left out of step totals; "
            "sleep (heart rate present, no steps) counts as wear.\n"
            "- Step outcomes use valid days only: read results for groups with low wear with care."
        )

    def plot(self, kind: str = "wear", lang: str = "ko", table: pd.DataFrame | None = None):
        """One figure: ``kind`` in {"accounting", "wear", "valid", "flags"} with labels in ``lang``.

        ``table`` is the published table to draw (what staff see: perturbed person-days per wear bin,
        median wear per date where n supports it, flagged minutes where enough people were flagged); a
        withheld value is a gap, not a bar. Without it the unprotected tables of this object are drawn
        (researchers' view, never published). For "valid" the published table carries the median wear
        per date, not the valid-day share (which times n would give back the few without a valid day).
        """
        import matplotlib.pyplot as plt

        t = lambda k: i18n.t(k, lang)  # noqa: E731
        fig, ax = plt.subplots(figsize=(8, 4))
        if kind == "accounting":
            df = self.accounting_table() if table is None else table
            ax.barh([t("sq_kept") if o == "kept" else t(o) for o in df["outcome"]], df["rows"], color="#4c72b0")
            ax.set_xscale("symlog")
            ax.set_xlabel(t("sq_rows"))
            ax.set_title(t("sq_row_accounting"))
        elif kind == "wear":
            df = self.wear_histogram() if table is None else table
            # a withheld bin stays empty (NaN draws no bar): a gap, never a bar of 0
            ax.bar(df["wear_hours_from"], pd.to_numeric(df["person_days"], errors="coerce").astype(float),
                   width=df["wear_hours_to"] - df["wear_hours_from"], align="edge", color="#55a868", edgecolor="white")
            ax.axvline(self.valid_day_minutes / 60, color="#c44e52", ls="--", label=t("sq_valid_line"))
            ax.set_xlabel(t("sq_wear_hours"))
            ax.set_ylabel(t("sq_person_days"))
            ax.set_title(t("sq_wear_hist"))
            ax.legend()
        elif kind == "valid" and table is not None:
            df = table.sort_values("date")
            ax.plot(pd.to_datetime(df["date"]), pd.to_numeric(df["median_wear_minutes"], errors="coerce").astype(float),
                    marker="o", color="#4c72b0")
            ax.axhline(self.valid_day_minutes, color="#c44e52", ls="--", label=t("sq_valid_line"))
            ax.set_ylim(0, 24 * 60)
            ax.set_xlabel(t("date"))
            ax.set_ylabel(t("sq_median_wear_minutes"))
            ax.set_title(t("sq_median_wear_by_date"))
            ax.legend()
            fig.autofmt_xdate()
        elif kind == "valid":
            df = self.valid_by_date()
            ax.plot(df["date"], df["valid_share"], marker="o", color="#4c72b0")
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(t("date"))
            ax.set_ylabel(t("sq_valid_share"))
            ax.set_title(t("sq_valid_by_date"))
            fig.autofmt_xdate()
        elif kind == "flags":
            src = self.flags_by_day() if table is None else table
            df = src.assign(minutes=pd.to_numeric(src["minutes"], errors="coerce").astype(float),
                            date=pd.to_datetime(src["date"])).pivot(index="date", columns="flag", values="minutes")
            for col in df.columns:
                ax.plot(df.index, df[col], marker=".", label=t(col))
            ax.set_yscale("symlog")
            ax.set_xlabel(t("date"))
            ax.set_ylabel(t("sq_minutes"))
            ax.set_title(t("sq_flags_by_day"))
            ax.legend(fontsize=8, ncol=2)
            fig.autofmt_xdate()
        else:
            raise ValueError(f"kind must be 'accounting', 'wear', 'valid' or 'flags', got {kind!r}")
        fig.tight_layout()
        return fig


def signal_quality(daily: pd.DataFrame, accounting=None, *, valid_day_minutes: int = 600, min_cell: int = 10) -> SignalQuality:
    """Build a :class:`SignalQuality` from :func:`daily_summary` output and ingest's ``RowAccounting``."""
    d = daily.copy()
    d["valid_day"] = d["wear_minutes"] >= valid_day_minutes
    rec = int(d["recorded_minutes"].sum()) + int(d["n_duplicate"].sum()) if len(d) else 0
    q = SignalQuality(daily=d, valid_day_minutes=valid_day_minutes, min_cell=min_cell)
    if accounting is not None:
        accounting.check()
        q.rows_in, q.rows_kept, q.rows_quarantined = accounting.rows_in, accounting.rows_kept, accounting.rows_quarantined
        q.quarantine_by_reason = dict(accounting.by_reason)
    else:
        q.rows_in = q.rows_kept = rec
    q.participants = int(d["participant_id"].nunique())
    q.participant_days = len(d)
    q.valid_days = int(d["valid_day"].sum())
    if len(d):
        q.share_valid_days = q.valid_days / len(d)
        q.median_wear_minutes = float(d["wear_minutes"].median())
        q.nonwear_share = float(d["n_nonwear"].sum() / max(d["recorded_minutes"].sum(), 1))
    q.flag_minutes = {c: int(d[c].sum()) for c in COUNT_COLUMNS}
    return q
