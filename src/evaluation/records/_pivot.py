"""Long records -> the ``participants`` analysis table the notebooks read (one row per person, no truth columns)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._contract import ARM_DESIGNS, CONTROL_ARMS, MEASURES
from ._read import Records, age_at, index_dates

ARMS = tuple(a for design in ARM_DESIGNS for a in design)
GROUPS = ("at_risk", "chronic")
WEEKS = (0, 12, 24)
PROGRAMME_WEEKS = 24
# the analysis table's measure order (that of evaluation.synth.participants)
ORDER = ("waist", "sbp", "dbp", "glucose", "tg", "hdl", "bmi",
         "walk_days", "breakfast_days", "salt_high", "smoker", "heavy_drinker")
assert set(ORDER) == set(MEASURES)


def participant_columns(group: bool = False) -> list[str]:
    """Columns of the analysis table, in order (``group`` after ``treated`` when the records carry 대상구분)."""
    return ["participant_id", "programme", "arm", "treated", *(["group"] if group else []), "wave", "enrolled_on",
            "index_date", "district", "age", "age_band", "sex", "income_quintile", "dropout_week", "completed",
            *[f"{m}_w{w}" for m in ORDER for w in WEEKS]]


def arm_levels(arms: pd.Series) -> list[str]:
    """The arm categories of a table: those of the one design (:data:`ARM_DESIGNS`) holding every arm present,
    so a smart-band table never lists the mobile-healthcare arms as empty cells (all arms when mixed)."""
    present = set(arms.dropna().astype(str))
    return list(next((d for d in ARM_DESIGNS if present <= set(d)), ARMS))


def _waves(enrolled_on: pd.Series, treated: np.ndarray) -> np.ndarray:
    """Recruitment waves from enrolment months in order (1 = the first month anyone enrolled)."""
    month = enrolled_on.dt.to_period("M")
    ranks = month[treated].rank(method="dense")
    out = np.zeros(len(enrolled_on), dtype=float)
    out[treated] = ranks.to_numpy()
    return out


def to_participants(records: Records | tuple[pd.DataFrame, pd.DataFrame], *, programme: str) -> pd.DataFrame:
    """One row per enrolled (or comparison) person with measures at weeks 0/12/24 as ``<m>_w<week>``.

    * ``arm``: the records' 참여구분, else band_issued when there is an enrolment date and comparison when not;
      categories of its design (:func:`arm_levels`);
    * ``treated``: arm is not comparison / waiting_list; ``enrolled_on``: NaT for those arms;
    * ``group``: 대상구분 (at_risk / chronic), only when the records carry it;
    * ``wave``: 기수, else the rank of the enrolment month; 0 for the comparison group;
    * ``index_date``: enrolment date, else the baseline (기초) measurement date;
    * ``age``: completed years at the index date (birth dates are not carried over);
    * ``dropout_week``: weeks from enrolment to 중도탈락일 (inf when the person did not leave, NaN for comparison);
    * ``completed``: treated and did not leave before week 24;
    * measures in the contract's units; NaN where the round was not measured.
    """
    enrol, meas = (records.enrolment, records.measurements) if isinstance(records, Records) else records
    e = enrol.drop_duplicates("participant_id").reset_index(drop=True)
    pid = e["participant_id"].astype(str)
    enrolled = pd.to_datetime(e["enrolled_on"]) if "enrolled_on" in e else pd.Series(pd.NaT, index=e.index, dtype="datetime64[ns]")
    arm = e["arm"].astype(object) if "arm" in e else pd.Series(None, index=e.index, dtype=object)
    arm = arm.where(arm.notna(), np.where(enrolled.notna(), "band_issued", "comparison"))
    treated = (~arm.isin(CONTROL_ARMS)).to_numpy()
    enrolled = enrolled.where(treated)
    if "wave" in e and e["wave"].notna().any():
        wave = e["wave"].to_numpy(float)
        wave = np.where(np.isnan(wave), _waves(enrolled, treated), wave)
    else:
        wave = _waves(enrolled, treated)
    wave = np.where(treated, wave, 0).astype(int)
    index = index_dates(e, meas).reindex(e["participant_id"]).to_numpy("datetime64[ns]")
    index = pd.Series(index)
    age = age_at(e["birth_date"], index) if "birth_date" in e else pd.Series(np.nan, index=e.index)
    withdrew = pd.to_datetime(e["withdrew_on"]) if "withdrew_on" in e else pd.Series(pd.NaT, index=e.index)
    weeks = (withdrew - enrolled).dt.days / 7.0
    dropout = np.where(treated, np.where(weeks.notna(), weeks, np.inf), np.nan)
    from ..synth.participants import age_band

    out: dict[str, object] = {
        "participant_id": pid.to_numpy(dtype=object),
        "programme": programme,
        "arm": pd.Categorical(arm.to_numpy(dtype=object), categories=arm_levels(arm)),
        "treated": treated,
        "group": (pd.Categorical(e["group"].astype(object).to_numpy(), categories=list(GROUPS))
                  if "group" in e else None),
        "wave": wave,
        "enrolled_on": enrolled.to_numpy("datetime64[ns]"),
        "index_date": index.to_numpy("datetime64[ns]"),
        "district": e["district"].astype(object).to_numpy() if "district" in e else None,
        "age": age.astype(int).to_numpy() if age.notna().all() else age.to_numpy(float),
        "age_band": age_band(age.to_numpy(float)),
        "sex": e["sex"].astype(object).to_numpy() if "sex" in e else None,
        "income_quintile": (e["income_quintile"].astype(int).to_numpy() if "income_quintile" in e and e["income_quintile"].notna().all()
                            else (e["income_quintile"].to_numpy(float) if "income_quintile" in e else np.nan)),
        "dropout_week": dropout,
        "completed": treated & (dropout > PROGRAMME_WEEKS),
    }
    m = meas[meas["participant_id"].isin(set(pid))] if len(meas) else meas
    for name in ORDER:
        for w in WEEKS:
            col = np.full(len(e), np.nan)
            if name in m and len(m):
                at = m[m["round"] == w].drop_duplicates("participant_id").set_index("participant_id")[name]
                col = at.reindex(pid).to_numpy(dtype=float, na_value=np.nan)
            out[f"{name}_w{w}"] = col
    df = pd.DataFrame(out)
    return df[participant_columns(group="group" in e)]
