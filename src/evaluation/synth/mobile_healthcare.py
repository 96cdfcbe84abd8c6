"""Synthetic participants of a health centre's 24-week mobile-healthcare programme (seed 003).

Seed 003 (일산동구보건소, 스마트 건강생활실천 플랫폼, as of 2023-12): 990 participants, 940 at health
risk and 50 with hypertension or diabetes; behaviour improvement 57.4%, risk-factor reduction 65.1%.
This generator makes a participants table with the columns :func:`evaluation.effects.kpis` reads, built
so that the *expected* KPIs under the national programme's definitions equal given rates:

* every participant's follow-up is generated from a target indicator drawn as Bernoulli(rate): with
  probability ``rates["risk_reduction"]`` a person at risk at baseline has at least one baseline-risk
  criterion back in the normal range at the follow-up week (else none is); with probability
  ``rates["behaviour_improvement"]`` at least one of the five behaviours improves (else none does);
* risk status at baseline: the at-risk group has at least one of the five metabolic-syndrome criteria
  (:mod:`evaluation.reference.mets_criteria`); chronic patients (hypertension / diabetes) are at risk
  on their measured values with probability ``chronic_at_risk_share`` (the rest are controlled by
  medication, so they are outside the risk-reduction denominator);
* dropout is completely at random (``dropout_w12``, ``dropout_w24``), so the expected rates among the
  people measured at follow-up equal the targets;
* a comparison group (``arm="waiting_list"``: at-risk people screened and put on the waiting list,
  measured at baseline and 24 weeks, never at 12) follows the same rule with ``comparison_rates``.

The rates are the only truth; they are returned in :data:`REPORTED` and the table carries no truth
column. The demo does not analyse this table directly: ``records: synthetic: generator: mobile_healthcare``
(:mod:`evaluation.synth.records`) writes it as the centre's files (등록대장.xlsx, 검진결과.csv in CP949,
건강행태설문.xlsx), and the notebooks read what :mod:`evaluation.records` makes of them.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..reference.mets_criteria import CRITERIA, CUTOFFS

PROGRAMME = "mobile_healthcare_ilsandong"
#: seed 003 (2023-12): reported rates of the programme and of the national programme
REPORTED = {"behaviour_improvement": 0.574, "risk_reduction": 0.651}
NATIONAL = {"behaviour_improvement": 0.552, "risk_reduction": 0.585}
#: the synthetic waiting list's rates: what "improves" without the programme (an assumption, not a figure)
COMPARISON_RATES = {"behaviour_improvement": 0.45, "risk_reduction": 0.50}
#: baseline probability that each criterion is at risk (before forcing at least one)
BASELINE_RISK = {"bp": 0.45, "glucose": 0.35, "waist": 0.40, "tg": 0.30, "hdl": 0.25}
WEEKS = (0, 12, 24)

# ranges (inclusive) that place a measure at risk or normal, built on the cut-offs of mets_criteria
# (defined once there): at risk from the cut-off up, normal strictly on the safe side of it
_C = CUTOFFS
_RISK = {"sbp": (int(_C["sbp"]), int(_C["sbp"]) + 35), "glucose": (int(_C["glucose"]), int(_C["glucose"]) + 35),
         "tg": (int(_C["tg"]), int(_C["tg"]) + 110)}
_NORMAL = {"sbp": (100, int(_C["sbp"]) - 2), "dbp": (60, int(_C["dbp"]) - 2), "glucose": (75, int(_C["glucose"]) - 2),
           "tg": (60, int(_C["tg"]) - 2)}
_WAIST = {s: ((w, w + 14.0), (w - 15.0, w - 1.0)) for s, w in (("M", _C["waist"][0]), ("F", _C["waist"][1]))}
_HDL = {s: ((h - 12, int(h) - 1), (int(h) + 1, int(h) + 30)) for s, h in (("M", _C["hdl"][0]), ("F", _C["hdl"][1]))}


def _draw_int(rng: np.random.Generator, lo_hi: tuple[int, int], size: int) -> np.ndarray:
    return rng.integers(lo_hi[0], lo_hi[1] + 1, size=size).astype(float)


def _measures(rng: np.random.Generator, flags: pd.DataFrame, sex: np.ndarray) -> dict[str, np.ndarray]:
    """Clinical measures whose criteria are exactly ``flags`` (bool frame, columns = CRITERIA)."""
    n = len(flags)
    out: dict[str, np.ndarray] = {}
    bp = flags["bp"].to_numpy()
    out["sbp"] = np.where(bp, _draw_int(rng, _RISK["sbp"], n), _draw_int(rng, _NORMAL["sbp"], n))
    out["dbp"] = np.where(bp, _draw_int(rng, (70, 100), n), _draw_int(rng, _NORMAL["dbp"], n))
    g = flags["glucose"].to_numpy()
    out["glucose"] = np.where(g, _draw_int(rng, _RISK["glucose"], n), _draw_int(rng, _NORMAL["glucose"], n))
    t = flags["tg"].to_numpy()
    out["tg"] = np.where(t, _draw_int(rng, _RISK["tg"], n), _draw_int(rng, _NORMAL["tg"], n))
    waist, hdl = np.empty(n), np.empty(n)
    for s in ("M", "F"):
        m = sex == s
        (wr, wn), (hr, hn) = _WAIST[s], _HDL[s]
        k = int(m.sum())
        at_w, at_h = flags["waist"].to_numpy()[m], flags["hdl"].to_numpy()[m]
        waist[m] = np.where(at_w, np.round(rng.uniform(*wr, k), 1), np.round(rng.uniform(*wn, k), 1))
        hdl[m] = np.where(at_h, _draw_int(rng, hr, k), _draw_int(rng, hn, k))
    out["waist"], out["hdl"] = waist, hdl
    return out


def _pick_one(rng: np.random.Generator, allowed: np.ndarray) -> np.ndarray:
    """One True per row among the allowed columns (rows with none allowed stay all False)."""
    score = np.where(allowed, rng.random(allowed.shape), -1.0)
    pick = np.zeros_like(allowed)
    rows = allowed.any(axis=1)
    pick[rows, score[rows].argmax(axis=1)] = True
    return pick


def _followup_flags(rng: np.random.Generator, base: pd.DataFrame, improved: np.ndarray) -> pd.DataFrame:
    """Follow-up criteria: improvers move >= 1 baseline-risk criterion to normal, others move none."""
    b = base.to_numpy(bool)
    forced = _pick_one(rng, b) & improved[:, None]
    extra = b & improved[:, None] & (rng.random(b.shape) < 0.3)  # some improvers fix more than one
    to_normal = forced | extra
    new_risk = ~b & (rng.random(b.shape) < 0.05)  # a normal criterion may turn at risk (does not count)
    return pd.DataFrame((b & ~to_normal) | new_risk, columns=base.columns, index=base.index)


def _behaviours(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "walk_days": rng.integers(0, 7, n).astype(float),  # 0-6: everybody can still walk one more day
        "breakfast_days": rng.integers(0, 8, n).astype(float),
        "salt_high": (rng.random(n) < 0.45).astype(float),
        "smoker": (rng.random(n) < 0.18).astype(float),
        "heavy_drinker": (rng.random(n) < 0.15).astype(float),
    }


def _followup_behaviours(rng: np.random.Generator, b0: dict[str, np.ndarray], improved: np.ndarray) -> dict[str, np.ndarray]:
    """Improvers improve >= 1 behaviour (one forced, others by chance); the rest improve none."""
    n = len(improved)
    can = np.column_stack([b0["walk_days"] < 7, b0["breakfast_days"] < 7, b0["salt_high"] == 1,
                           b0["smoker"] == 1, b0["heavy_drinker"] == 1])
    up = _pick_one(rng, can) & improved[:, None]
    up |= can & improved[:, None] & (rng.random(can.shape) < 0.25)
    out = {}
    for j, key in enumerate(("walk_days", "breakfast_days")):
        gain = rng.integers(1, 4, n)
        loss = rng.integers(0, 2, n)  # no improvement: same or one day fewer
        out[key] = np.where(up[:, j], np.minimum(b0[key] + gain, 7), np.maximum(b0[key] - loss, 0)).astype(float)
    for j, key in enumerate(("salt_high", "smoker", "heavy_drinker"), start=2):
        start = rng.random(n) < 0.03  # a new bad habit (not an improvement)
        out[key] = np.where(up[:, j], 0.0, np.where(b0[key] == 1, 1.0, start.astype(float)))
    return out


def _group(rng: np.random.Generator, n: int, *, arm: str, chronic: np.ndarray, rates: Mapping[str, float],
           rates_w12: Mapping[str, float] | None, chronic_at_risk_share: float, dropout: tuple[float, float],
           start: pd.Timestamp, id_prefix: str, offset: int) -> pd.DataFrame:
    sex = np.where(rng.random(n) < 0.62, "F", "M")
    draws = np.column_stack([rng.random(n) < BASELINE_RISK[c] for c in CRITERIA])
    none = ~draws.any(axis=1)
    draws[none] = _pick_one(rng, np.ones((int(none.sum()), len(CRITERIA)), bool))  # at risk: >= 1 criterion
    controlled = chronic & (rng.random(n) >= chronic_at_risk_share)
    draws[controlled] = False  # chronic patients controlled by medication: all five normal
    base = pd.DataFrame(draws, columns=list(CRITERIA))
    df = pd.DataFrame({
        "participant_id": [f"{id_prefix}{offset + i:05d}" for i in range(n)],
        "programme": PROGRAMME, "arm": arm, "treated": arm == "participant",
        "group": np.where(chronic, "chronic", "at_risk"),
        "sex": sex, "age": rng.integers(20, 65, n),
        "index_date": start + pd.to_timedelta(rng.integers(0, 540, n), unit="D"),
    })
    df["enrolled_on"] = df["index_date"].where(df["treated"])
    for k, v in _measures(rng, base, sex).items():
        df[f"{k}_w0"] = v
    b0 = _behaviours(rng, n)
    for k, v in b0.items():
        df[f"{k}_w0"] = v
    weeks = {24: rates} if rates_w12 is None else {12: rates_w12, 24: rates}
    for wk, r in weeks.items():
        risk_improved = rng.random(n) < r["risk_reduction"]
        fu = _followup_flags(rng, base, risk_improved)
        for k, v in _measures(rng, fu, sex).items():
            df[f"{k}_w{wk}"] = v
        for k, v in _followup_behaviours(rng, b0, rng.random(n) < r["behaviour_improvement"]).items():
            df[f"{k}_w{wk}"] = v
    u = rng.random(n)
    dw = np.where(u < dropout[0], rng.integers(1, 12, n), np.where(u < dropout[0] + dropout[1], rng.integers(12, 24, n), np.inf))
    df["dropout_week"] = dw.astype(float) if arm == "participant" else np.nan
    df["completed"] = dw > 24
    for wk in (12, 24):
        gone = dw <= wk
        for col in [c for c in df.columns if c.endswith(f"_w{wk}")]:
            df.loc[gone, col] = np.nan
    for col in [c for c in df.columns if c.endswith("_w12")] if rates_w12 is None else []:
        df[col] = np.nan
    return df


def participants(
    *,
    n_at_risk: int = 940,
    n_chronic: int = 50,
    n_comparison: int = 400,
    rates: Mapping[str, float] = REPORTED,
    rates_w12: Mapping[str, float] | None = None,
    comparison_rates: Mapping[str, float] = COMPARISON_RATES,
    chronic_at_risk_share: float = 0.6,
    dropout_w12: float = 0.06,
    dropout_w24: float = 0.06,
    start: str = "2022-07-01",
    seed: int = 3,
) -> pd.DataFrame:
    """The programme's participants (``arm="participant"``) and waiting list (``arm="waiting_list"``), one row each.

    Columns: ``participant_id`` (synthetic pseudonym), ``programme``, ``arm``, ``treated``, ``group``
    (``at_risk`` / ``chronic``), ``sex`` ('M'/'F'), ``age`` (years), ``index_date`` (enrolment or
    screening), ``enrolled_on``, ``dropout_week`` (weeks, inf = completed; NaN for the waiting list),
    ``completed``, and ``<m>_w0``, ``<m>_w12``, ``<m>_w24`` for the clinical measures sbp/dbp (mmHg),
    glucose/tg/hdl (mg/dL), waist (cm) and behaviours walk_days/breakfast_days (days/week),
    salt_high/smoker/heavy_drinker (0/1); NaN when not measured. Expected KPIs at week 24 equal
    ``rates`` (participants) and ``comparison_rates`` (waiting list); at week 12 ``rates_w12``
    (default: halfway between the comparison and the week-24 rates).
    """
    for name, r in (("rates", rates), ("comparison_rates", comparison_rates)):
        missing = {"behaviour_improvement", "risk_reduction"} - set(r)
        if missing:
            raise ValueError(f"{name} lacks {sorted(missing)}")
        if not all(0 <= v <= 1 for v in r.values()):
            raise ValueError(f"{name} must hold proportions in [0, 1], got {dict(r)}")
    if min(n_at_risk, n_chronic, n_comparison) < 0 or n_at_risk + n_chronic == 0:
        raise ValueError("participants: group sizes must be >= 0 with at least one participant")
    if rates_w12 is None:
        rates_w12 = {k: (rates[k] + comparison_rates[k]) / 2 for k in ("behaviour_improvement", "risk_reduction")}
    rng = np.random.default_rng(seed)
    start_ts = pd.Timestamp(start)
    n = n_at_risk + n_chronic
    chronic = np.r_[np.zeros(n_at_risk, bool), np.ones(n_chronic, bool)]
    joiners = _group(rng, n, arm="participant", chronic=chronic, rates=rates, rates_w12=rates_w12,
                     chronic_at_risk_share=chronic_at_risk_share, dropout=(dropout_w12, dropout_w24),
                     start=start_ts, id_prefix="M", offset=0)
    waiting = _group(rng, n_comparison, arm="waiting_list", chronic=np.zeros(n_comparison, bool),
                     rates=comparison_rates, rates_w12=None, chronic_at_risk_share=chronic_at_risk_share,
                     dropout=(0.0, dropout_w24), start=start_ts, id_prefix="M", offset=n)
    out = pd.concat([joiners, waiting], ignore_index=True)
    out["arm"] = pd.Categorical(out["arm"], categories=["participant", "waiting_list"])
    return out
