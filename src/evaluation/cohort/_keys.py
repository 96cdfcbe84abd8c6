"""Grouping keys: calendar keys computed from ``date`` and keys relative to enrolment."""
from __future__ import annotations

# Calendar keys are the first day of the period (weeks start on Monday, ISO 8601).
CALENDAR_KEYS = {
    "date": "CAST(d.date AS DATE)",
    "week": "CAST(date_trunc('week', CAST(d.date AS DATE)) AS DATE)",
    "month": "CAST(date_trunc('month', CAST(d.date AS DATE)) AS DATE)",
    "quarter": "CAST(date_trunc('quarter', CAST(d.date AS DATE)) AS DATE)",
    "year": "CAST(year(CAST(d.date AS DATE)) AS INTEGER)",
}
# Whole weeks since the participant's anchor date: enrolled_on, or index_date
# (pseudo index date of the comparison arm) when enrolled_on is missing. Week 0 is
# the enrolment day and the 6 days after it, so mid-week enrolment is handled per person.
RELATIVE_KEYS = {"week_since_enrolment"}
TIME_KEYS = set(CALENDAR_KEYS) | RELATIVE_KEYS
ALIASES = {"enrolment_wave": "wave"}


def anchor_expr(pcols: dict[str, str]) -> str:
    """SQL for a participant's anchor date given the participants' columns."""
    if "enrolled_on" in pcols and "index_date" in pcols:
        return "CAST(coalesce(p.enrolled_on, p.index_date) AS DATE)"
    if "enrolled_on" in pcols:
        return "CAST(p.enrolled_on AS DATE)"
    if "index_date" in pcols:
        return "CAST(p.index_date AS DATE)"
    raise ValueError("week_since_enrolment needs participants column 'enrolled_on' or 'index_date'")


def relative_week_expr(pcols: dict[str, str]) -> str:
    return f"CAST(floor(date_diff('day', {anchor_expr(pcols)}, CAST(d.date AS DATE)) / 7.0) AS INTEGER)"
