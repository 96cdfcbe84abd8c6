"""Synthetic participants with a known programme effect, selection and regression to the mean.

The data-generating process (all numbers live in :class:`Truth`):

* ``n`` adults aged 19-69 spread over Seoul's 25 districts in proportion to
  population, with sex, income quintile (correlated with a synthetic district
  deprivation score) and a latent habitual step count.
* Each person has *true* risk factors (waist, blood pressure, glucose,
  triglycerides, HDL, BMI) that depend on age, sex, income and habitual
  activity. Every clinic measurement adds independent measurement error, so a
  person measured high once tends to measure lower next time.
* Selection: the probability of joining the programme rises with the *measured*
  baseline risk-factor count, with age, for women and for low habitual
  activity. Joiners are therefore at higher measured risk than non-joiners, a
  naive treated-vs-untreated comparison is confounded, and a naive
  before/after change among joiners is inflated by regression to the mean.
* Joiners enrol in staggered waves (``n_waves`` cohorts, one every
  ``wave_spacing_weeks``); the rest form the ``comparison`` arm and receive a
  pseudo index date drawn from the same waves (health-screening dates) so that
  their measures at 0, 12 and 24 weeks line up with the joiners'.
* Treatment effect: constant (homogeneous) on the clinical measures and
  behaviours, reached in full by week 24 and ``Truth.share_at_12w`` of it by
  week 12. On daily steps the effect ramps up over the first weeks and differs
  by wave (``Truth.steps_wave_multiplier``), which is exactly the heterogeneity
  that biases a two-way fixed-effects DiD and that Callaway-Sant'Anna handles.
* Dropout: joiners drop out at an exponential time (younger people faster);
  measures after dropout are missing; the effect does not depend on dropout,
  so the effect among completers equals the effect among joiners.
* A secular trend moves everybody's measures a little between baseline and
  follow-up (``Truth.secular_*``), so before/after changes are not effects.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..reference import districts, mets_criteria

ARMS = ("band_issued", "own_device", "comparison")
CLINICAL = ("waist", "sbp", "dbp", "glucose", "tg", "hdl", "bmi")
BEHAVIOURS = ("walk_days", "breakfast_days", "salt_high", "smoker", "heavy_drinker")
WEEKS = (0, 12, 24)


@dataclass(frozen=True)
class Truth:
    """Ground truth of :func:`participants` (units as in the column names).

    ``effect_*`` are the true average effects on the treated at week 24 of the
    programme on the measured outcome (treated minus their own untreated
    potential outcome); at week 12 the effect is ``share_at_12w`` times that.
    """

    effect_waist: float = -1.5  # cm
    effect_sbp: float = -4.0  # mmHg
    effect_dbp: float = -2.0  # mmHg
    effect_glucose: float = -3.0  # mg/dL
    effect_tg: float = -12.0  # mg/dL
    effect_hdl: float = 1.5  # mg/dL
    effect_bmi: float = -0.4  # kg/m2
    effect_walk_days: float = 1.0  # days per week with >= 30 min walking
    effect_breakfast_days: float = 0.5  # days per week
    effect_salt_high: float = -0.10  # absolute change in probability
    effect_smoker: float = -0.04  # absolute change in probability (quitting)
    effect_heavy_drinker: float = -0.03  # absolute change in probability
    share_at_12w: float = 0.75
    # daily steps: effect e weeks after enrolment = effect_steps * ramp(e) * wave multiplier
    effect_steps: float = 1500.0  # steps/day at full ramp
    steps_ramp_weeks: int = 4
    steps_wave_multiplier: tuple[float, ...] = (1.3, 1.1, 0.9, 0.7)
    secular_sbp: float = 0.8  # mmHg over 24 weeks, everyone
    secular_waist: float = 0.3  # cm over 24 weeks, everyone
    secular_glucose: float = 1.0  # mg/dL over 24 weeks
    measurement_sd: dict[str, float] = field(
        default_factory=lambda: {
            "waist": 2.5, "sbp": 9.0, "dbp": 6.0, "glucose": 9.0, "tg": 30.0, "hdl": 5.0, "bmi": 0.5,
        }
    )
    dropout_mean_weeks: float = 70.0  # exponential mean for age 45; younger drop out faster

    def effect(self, measure: str, week: int) -> float:
        """True effect on ``measure`` at follow-up ``week`` (0, 12 or 24)."""
        full = getattr(self, f"effect_{measure}")
        return {0: 0.0, 12: self.share_at_12w * full, 24: full}[week]

    def steps_effect(self, wave: int | np.ndarray, weeks_since: float | np.ndarray) -> np.ndarray:
        """True effect on daily steps for enrolment ``wave`` (1-based) ``weeks_since`` enrolment."""
        wave = np.asarray(wave)
        e = np.asarray(weeks_since, dtype=float)
        mult = np.asarray(self.steps_wave_multiplier)
        m = mult[np.clip(wave - 1, 0, len(mult) - 1)]
        ramp = np.clip((np.floor(e) + 1) / self.steps_ramp_weeks, 0, 1)
        return np.where((wave > 0) & (e >= 0), self.effect_steps * m * ramp, 0.0)


TRUTH = Truth()

# Synthetic district deprivation score (0 = least deprived); illustrative only.
_DEPRIVATION = {
    "11110": 0.3, "11140": 0.3, "11170": 0.2, "11200": 0.4, "11215": 0.5, "11230": 0.7,
    "11260": 0.9, "11290": 0.5, "11305": 1.0, "11320": 0.8, "11350": 0.7, "11380": 0.7,
    "11410": 0.5, "11440": 0.3, "11470": 0.3, "11500": 0.6, "11530": 0.7, "11545": 0.9,
    "11560": 0.5, "11590": 0.4, "11620": 0.8, "11650": 0.0, "11680": 0.0, "11710": 0.2, "11740": 0.4,
}

AGE_BANDS = [(19, 29, "19-29"), (30, 39, "30-39"), (40, 49, "40-49"), (50, 59, "50-59"), (60, 69, "60-69")]


def age_band(age: pd.Series | np.ndarray) -> pd.Categorical:
    """Ten-year age bands 19-29 ... 60-69 as an ordered categorical."""
    labels = [b[2] for b in AGE_BANDS]
    edges = [18] + [b[1] for b in AGE_BANDS]
    return pd.cut(np.asarray(age), bins=edges, labels=labels, ordered=True)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def participants(
    n: int = 2000,
    *,
    seed: int = 2023,
    programme: str = "smartband_9988",
    start: str = "2023-01-02",
    n_waves: int = 4,
    wave_spacing_weeks: int = 8,
    first_wave_week: int = 8,
    treated_share: float = 0.5,
    own_device_share: float = 0.32,
    require_risk: bool = False,
    truth: Truth = TRUTH,
) -> pd.DataFrame:
    """Generate ``n`` synthetic participants (one row each) with measures at weeks 0, 12 and 24.

    Columns: ``participant_id`` (pseudonym), ``programme``, ``arm``, ``treated``,
    ``wave`` (1..n_waves, 0 for comparison), ``enrolled_on`` (date, NaT for
    comparison), ``index_date`` (enrolment or pseudo screening date),
    ``district`` (code), ``age`` (years), ``age_band``, ``sex`` ('M'/'F'),
    ``income_quintile`` (1 = lowest), ``habitual_steps`` (latent steps/day
    without the programme), ``dropout_week`` (weeks after enrolment, inf if
    never; NaN for comparison), ``completed`` (reached week 24), and for each
    measure m in waist (cm), sbp/dbp (mmHg), glucose/tg/hdl (mg/dL), bmi
    (kg/m2), walk_days/breakfast_days (days/week), salt_high/smoker/heavy_drinker
    (0/1): ``m_w0``, ``m_w12``, ``m_w24`` (NaN when not measured) plus the
    untreated potential outcome ``m_w24_cf`` for truth checks.

    ``treated_share`` is the target share of joiners; the selection model's
    intercept is calibrated to it. ``require_risk=True`` mimics the national
    mobile-healthcare programme: only people meeting at least one measured
    metabolic-syndrome criterion at baseline may join. Deterministic for a given ``seed``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    dist = districts.table()
    w = dist["population_approx"].to_numpy(float)
    district = rng.choice(dist["district"].to_numpy(), size=n, p=w / w.sum())
    depriv = np.array([_DEPRIVATION[d] for d in district])
    age = rng.integers(19, 70, size=n)
    female = rng.random(n) < 0.51
    sex = np.where(female, "F", "M")
    # income quintile: lower in deprived districts
    inc_latent = -1.2 * depriv + rng.normal(0, 1, n)
    income_q = pd.qcut(inc_latent, 5, labels=False) + 1
    age_c = (age - 45) / 14.0
    inc_c = (income_q - 3) / 1.4
    habitual = np.exp(
        np.log(7000) - 0.12 * age_c + 0.05 * inc_c - 0.08 * female + rng.normal(0, 0.35, n)
    )
    act_c = (np.log(habitual) - np.log(7000)) / 0.35

    # true (error-free) risk factors
    bmi_t = 23.8 + 0.8 * age_c - 1.0 * female - 0.4 * act_c - 0.3 * inc_c + rng.normal(0, 2.6, n)
    waist_t = 84.0 + 2.8 * (bmi_t - 23.8) + 3.0 * age_c - 6.0 * female + rng.normal(0, 3.0, n)
    sbp_t = 121 + 6.0 * age_c - 5.0 * female + 1.2 * (bmi_t - 23.8) - 1.0 * act_c + rng.normal(0, 10, n)
    dbp_t = 77 + 3.0 * age_c - 3.0 * female + 0.6 * (bmi_t - 23.8) + 0.5 * (sbp_t - 121) * 0.4 + rng.normal(0, 6, n)
    glucose_t = 97 + 5.0 * age_c + 1.0 * (bmi_t - 23.8) - 1.0 * act_c + rng.normal(0, 10, n)
    tg_t = np.exp(np.log(125) + 0.10 * age_c - 0.18 * female + 0.04 * (bmi_t - 23.8) - 0.05 * act_c + rng.normal(0, 0.45, n))
    hdl_t = 52 - 1.0 * age_c + 7.0 * female - 0.8 * (bmi_t - 23.8) + 1.0 * act_c + rng.normal(0, 9, n)
    true = {"waist": waist_t, "sbp": sbp_t, "dbp": dbp_t, "glucose": glucose_t, "tg": tg_t, "hdl": hdl_t, "bmi": bmi_t}

    sd = truth.measurement_sd

    def measure(name: str, week: int, shift: np.ndarray | float) -> np.ndarray:
        secular = getattr(truth, f"secular_{name}", 0.0) * week / 24.0
        return true[name] + secular + shift + rng.normal(0, sd[name], n)

    floor = {"tg": 30.0, "hdl": 15.0}

    def measure_cf(name: str, week: int) -> np.ndarray:
        # untreated measured value, rounded to the clinic's 0.1 precision and floored at plausible minima
        return np.round(np.maximum(measure(name, week, 0.0), floor.get(name, -np.inf)), 1)

    base = {m: measure_cf(m, 0) for m in CLINICAL}
    risk_count = mets_criteria.risk_count(
        pd.DataFrame({f"{m}_w0": base[m] for m in CLINICAL} | {"sex": sex}), week=0
    )
    # behaviours: latent propensities, measured as counts / 0-1 with noise
    walk_lat = np.clip(2.5 + 1.2 * act_c + rng.normal(0, 1.0, n), 0, 7)
    brk_lat = np.clip(4.5 + 0.8 * age_c + 0.3 * inc_c + rng.normal(0, 1.5, n), 0, 7)
    p_salt = _logistic(-0.3 + 0.2 * age_c - 0.3 * female + rng.normal(0, 0.5, n))
    p_smoke = _logistic(-1.3 - 1.6 * female - 0.2 * inc_c + rng.normal(0, 0.5, n))
    p_drink = _logistic(-1.6 - 1.0 * female - 0.2 * age_c + rng.normal(0, 0.5, n))

    # selection into the programme on measured risk, age, sex, low activity, district deprivation
    lin = 0.9 * risk_count + 0.35 * age_c + 0.30 * female - 0.45 * act_c + 0.3 * depriv
    lo, hi = -15.0, 15.0
    for _ in range(60):  # calibrate intercept to the target share (bisection)
        mid = (lo + hi) / 2
        if _logistic(mid + lin).mean() > treated_share:
            hi = mid
        else:
            lo = mid
    p_treat = _logistic((lo + hi) / 2 + lin)
    if require_risk:
        p_treat = np.where(risk_count >= 1, p_treat, 0.0)
    treated = rng.random(n) < p_treat
    own = rng.random(n) < own_device_share
    arm = np.where(~treated, "comparison", np.where(own, "own_device", "band_issued"))

    wave = np.where(treated, rng.integers(1, n_waves + 1, size=n), 0)
    pseudo_wave = np.where(treated, wave, rng.integers(1, n_waves + 1, size=n))
    start_ts = pd.Timestamp(start)
    offset_days = (first_wave_week + (pseudo_wave - 1) * wave_spacing_weeks) * 7 + rng.integers(0, 7, size=n)
    index_date = start_ts + pd.to_timedelta(offset_days, unit="D")
    enrolled_on = pd.Series(index_date).where(treated)

    mean_drop = truth.dropout_mean_weeks * np.exp(0.35 * age_c)
    dropout = np.where(treated, rng.exponential(mean_drop), np.nan)
    dropout = np.where(treated & (dropout > 52), np.inf, dropout)

    out: dict[str, object] = {
        "participant_id": [f"S{seed % 1000:03d}{i:07d}" for i in range(n)],
        "programme": programme,
        "arm": pd.Categorical(arm, categories=list(ARMS)),
        "treated": treated,
        "wave": wave.astype(int),
        "enrolled_on": pd.to_datetime(enrolled_on).dt.date.astype("datetime64[ns]") if treated.any() else pd.NaT,
        "index_date": pd.to_datetime(index_date),
        "district": district,
        "age": age.astype(int),
        "age_band": age_band(age),
        "sex": sex,
        "income_quintile": income_q.astype(int),
        "habitual_steps": np.round(habitual).astype(int),
        "dropout_week": dropout,
        "completed": np.where(treated, dropout > 24, False),
    }
    t = treated.astype(float)
    for m in CLINICAL:
        out[f"{m}_w0"] = base[m]
        for wk in (12, 24):
            cf = measure_cf(m, wk)
            val = np.round(cf + t * truth.effect(m, wk), 1)
            if wk == 24:
                out[f"{m}_w24_cf"] = cf
            observed = ~treated | (dropout > wk)
            out[f"{m}_w{wk}"] = np.where(observed, val, np.nan)

    # behaviours at 0/12/24 weeks (the untreated draw is reused for the counterfactual)
    def counts(lat: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return np.clip(np.round(lat + shift + rng.normal(0, 0.8, n)), 0, 7)

    def binary(p: np.ndarray, shift: np.ndarray, u: np.ndarray) -> np.ndarray:
        return (u < np.clip(p + shift, 0, 1)).astype(float)

    for name, lat in (("walk_days", walk_lat), ("breakfast_days", brk_lat)):
        out[f"{name}_w0"] = counts(lat, 0.0)
        for wk in (12, 24):
            noise = rng.normal(0, 0.8, n)
            eff = t * truth.effect(name, wk)
            val = np.clip(np.round(lat + eff + noise), 0, 7)
            if wk == 24:
                out[f"{name}_w24_cf"] = np.clip(np.round(lat + noise), 0, 7)
            out[f"{name}_w{wk}"] = np.where(~treated | (dropout > wk), val, np.nan)
    for name, p in (("salt_high", p_salt), ("smoker", p_smoke), ("heavy_drinker", p_drink)):
        out[f"{name}_w0"] = binary(p, 0.0, rng.random(n))
        for wk in (12, 24):
            u = rng.random(n)
            val = binary(p, t * truth.effect(name, wk), u)
            if wk == 24:
                out[f"{name}_w24_cf"] = binary(p, 0.0, u)
            out[f"{name}_w{wk}"] = np.where(~treated | (dropout > wk), val, np.nan)
    df = pd.DataFrame(out)
    df.attrs["truth"] = asdict(truth)  # JSON-serialisable so it survives Parquet
    df.attrs["seed"] = seed
    return df
