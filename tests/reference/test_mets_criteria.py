"""The five MetS criteria, against hand-worked people on each side of every cut-off."""
from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.reference import mets_criteria


def _people(**cols) -> pd.DataFrame:
    base = {"sex": "F", "sbp_w0": 120.0, "dbp_w0": 80.0, "glucose_w0": 90.0, "waist_w0": 80.0, "tg_w0": 100.0,
            "hdl_w0": 60.0}
    n = max(len(v) for v in cols.values())
    return pd.DataFrame({k: cols.get(k, [v] * n) for k, v in base.items()})


def test_each_cut_off_is_inclusive_where_the_definition_says_so():
    p = _people(sbp_w0=[129.9, 130.0, np.nan], dbp_w0=[84.9, 80.0, 85.0])
    assert p.pipe(mets_criteria.risk_flags, 0)["bp"].tolist() == [False, True, True]  # one high pressure decides
    p = _people(sex=["M", "M", "F", "F"], waist_w0=[89.9, 90.0, 84.9, 85.0])
    assert mets_criteria.risk_flags(p, 0)["waist"].tolist() == [False, True, False, True]
    p = _people(sex=["M", "M", "F", "F"], hdl_w0=[40.0, 39.9, 50.0, 49.9])
    assert mets_criteria.risk_flags(p, 0)["hdl"].tolist() == [False, True, False, True]


def test_unknown_criteria_stay_unknown_in_flags_and_do_not_count():
    p = _people(glucose_w0=[np.nan, 100.0], tg_w0=[150.0, np.nan])
    flags = mets_criteria.risk_flags(p, 0)
    assert flags["glucose"].isna().tolist() == [True, False] and flags["tg"].isna().tolist() == [False, True]
    assert mets_criteria.risk_count(p, 0).tolist() == [1, 1]


def test_mets_needs_three_criteria():
    p = _people(sbp_w0=[140.0, 140.0], glucose_w0=[110.0, 110.0], tg_w0=[120.0, 200.0])
    assert mets_criteria.risk_count(p, 0).tolist() == [2, 3]
    assert mets_criteria.has_mets(p, 0).tolist() == [False, True]
