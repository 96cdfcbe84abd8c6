"""Plain-language summary for foundation staff (Korean default, English option)."""
from __future__ import annotations

import pandas as pd

from ..reference import districts
from ..publish import i18n


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def staff_summary(
    profile: pd.DataFrame,
    measures: pd.DataFrame,
    gap: pd.DataFrame | None,
    *,
    indicator: str,
    year: int,
    indicator_label: str | None = None,
    lang: str = "ko",
) -> str:
    """Markdown bullet list: worst/best districts, between-district gap and its trend, programme gap change.

    ``profile`` from :func:`district_profile`, ``measures`` from :func:`indicator_inequality`,
    ``gap`` the measures table of a :class:`GapChangeResult` (or None).
    """
    lang = i18n.check_lang(lang)
    names = districts.names(lang)
    label = indicator_label or indicator
    prof = profile[(profile["indicator"] == indicator) & (profile["year"] == year)]
    if prof.empty:
        raise ValueError(f"no profile rows for indicator {indicator!r}, year {year}")
    tested = "flag_method" not in prof.columns or (prof["flag_method"] == "se").all()
    worse = [names[d] for d in prof.loc[prof["flag"].isin(["worse", "far_worse"]), "district"]]
    better = [names[d] for d in prof.loc[prof["flag"].isin(["better", "far_better"]), "district"]]
    avg = float(prof["seoul_average"].iloc[0])
    m = measures[(measures["indicator"] == indicator) & (measures["measure"] == "bgsd")].sort_values("year")
    lines = []
    if lang == "ko":
        lines.append(f"- {year}년 {label}의 서울시 평균은 {_fmt(avg)}입니다.")
        if tested:
            lines.append(f"- 평균보다 유의하게 나쁜 자치구: {', '.join(worse) if worse else '없음'}.")
            lines.append(f"- 평균보다 유의하게 좋은 자치구: {', '.join(better) if better else '없음'}.")
        else:  # no SE: an outlier rule, not a test
            lines.append(f"- 다른 자치구와 차이가 큰 자치구 (나쁜 쪽): {', '.join(worse) if worse else '없음'}.")
            lines.append(f"- 다른 자치구와 차이가 큰 자치구 (좋은 쪽): {', '.join(better) if better else '없음'}.")
    else:
        lines.append(f"- In {year} the Seoul average of {label} was {_fmt(avg)}.")
        if tested:
            lines.append(f"- Districts significantly worse than average: {', '.join(worse) if worse else 'none'}.")
            lines.append(f"- Districts significantly better than average: {', '.join(better) if better else 'none'}.")
        else:
            lines.append(f"- Districts far from the others, on the worse side: {', '.join(worse) if worse else 'none'}.")
            lines.append(f"- Districts far from the others, on the better side: {', '.join(better) if better else 'none'}.")
    if len(m) >= 2:
        first, last = m.iloc[0], m.iloc[-1]
        overlap = not (last["ci_high"] < first["ci_low"] or last["ci_low"] > first["ci_high"])
        if lang == "ko":
            trend = "뚜렷한 변화가 없습니다" if overlap else ("줄었습니다" if last["estimate"] < first["estimate"] else "커졌습니다")
            lines.append(f"- 자치구 간 격차(집단 간 표준편차)는 {int(first['year'])}년 {_fmt(first['estimate'], 2)}에서 "
                         f"{int(last['year'])}년 {_fmt(last['estimate'], 2)}로, {trend} (95% 신뢰구간 기준).")
        else:
            trend = "shows no clear change" if overlap else ("narrowed" if last["estimate"] < first["estimate"] else "widened")
            lines.append(f"- The gap between districts (between-group SD) went from {_fmt(first['estimate'], 2)} in "
                         f"{int(first['year'])} to {_fmt(last['estimate'], 2)} in {int(last['year'])}: it {trend} "
                         "(judged by the 95% CIs).")
    if gap is not None and len(gap):
        for _, r in gap.iterrows():
            verdict = i18n.t(r["verdict"], lang)
            dim = i18n.t(r.get("dimension", "district"), lang)
            ci = f"{_fmt(r['gap_change_ci_low'], 3)} ~ {_fmt(r['gap_change_ci_high'], 3)}"
            if lang == "ko":
                lines.append(f"- 프로그램 참여 전후 {dim} 간 걸음 수 격차({i18n.t(r['measure'], lang)}): "
                             f"{_fmt(r['before'], 3)} → {_fmt(r['after'], 3)}, 변화 95% 신뢰구간 {ci} → **{verdict}**.")
            else:
                lines.append(f"- Steps gap between {dim.lower()}s before vs after enrolment ({i18n.t(r['measure'], lang)}): "
                             f"{_fmt(r['before'], 3)} → {_fmt(r['after'], 3)}, 95% CI of the change {ci} → **{verdict}**.")
    if lang == "ko":
        lines.append("- 이 표본 자료는 합성(예시) 자료이며 공식 통계가 아닙니다.")
    else:
        lines.append("- The sample data are synthetic (illustrative), not official statistics.")
    return "\n".join(lines)
