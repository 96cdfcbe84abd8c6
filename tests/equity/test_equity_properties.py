"""Property tests (hypothesis) for the summary measures of inequality."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import equity

pops = st.lists(st.integers(min_value=10, max_value=100_000), min_size=3, max_size=12)


def _frame(pop: list[int], values: list[float], se: list[float] | None = None) -> pd.DataFrame:
    k = len(pop)
    df = pd.DataFrame({"g": [f"g{i}" for i in range(k)], "pop": pop, "y": values[:k], "order": np.arange(1, k + 1)})
    df["se"] = se[:k] if se is not None else 1.0
    return df


@settings(max_examples=40, deadline=None)
@given(pop=pops, level=st.floats(min_value=1.0, max_value=99.0))
def test_all_measures_show_no_inequality_when_groups_are_equal(pop, level):
    df = _frame(pop, [level] * len(pop))
    un = equity.inequality_measures(df, "y", "pop", group="g", se="se", scale=100).set_index("measure")
    ordd = equity.inequality_measures(df, "y", "pop", group="g", order="order", se="se", scale=100).set_index("measure")
    for name in ("difference", "bgv", "bgsd", "theil", "mld", "par", "paf"):
        assert un.at[name, "estimate"] == pytest.approx(0, abs=1e-9), name
    assert un.at["ratio", "estimate"] == pytest.approx(1)
    for name in ("sii", "aci", "rci", "difference", "par", "paf"):
        assert ordd.at[name, "estimate"] == pytest.approx(0, abs=1e-7), name
    assert ordd.at["rii", "estimate"] == pytest.approx(1, abs=1e-9)
    assert ordd.at["ratio", "estimate"] == pytest.approx(1)
    lin = equity.sii(df, "y", "pop", "order", model="linear")
    assert lin.estimate == pytest.approx(0, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(pop=pops, values=st.lists(st.floats(min_value=0.5, max_value=99.5), min_size=12, max_size=12),
       ses=st.lists(st.floats(min_value=0.1, max_value=5), min_size=12, max_size=12), seed=st.integers(0, 10_000))
def test_bgv_and_unordered_measures_do_not_depend_on_row_order(pop, values, ses, seed):
    df = _frame(pop, values, ses)
    shuffled = df.sample(frac=1.0, random_state=seed)
    for f in (equity.bgv, equity.theil, equity.mld):
        a, b = f(df, "y", "pop", se="se"), f(shuffled, "y", "pop", se="se")
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9, abs=1e-9)
        assert a.se == pytest.approx(b.se, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(pop=pops, values=st.lists(st.floats(min_value=1.0, max_value=99.0), min_size=12, max_size=12))
def test_sii_and_concentration_index_change_sign_when_order_is_reversed(pop, values):
    df = _frame(pop, values)
    rev = df.assign(order=-df["order"])
    for model in ("logit", "linear"):
        a = equity.sii(df, "y", "pop", "order", model=model, scale=100)
        b = equity.sii(rev, "y", "pop", "order", model=model, scale=100)
        assert b.estimate == pytest.approx(-a.estimate, rel=1e-6, abs=1e-6)
        assert b.se == pytest.approx(a.se, rel=1e-5, abs=1e-6)
    ra = equity.rii(df, "y", "pop", "order", scale=100)
    rb = equity.rii(rev, "y", "pop", "order", scale=100)
    assert rb.estimate == pytest.approx(1 / ra.estimate, rel=1e-6)
    ca = equity.concentration_index(df, "y", "pop", "order")
    cb = equity.concentration_index(rev, "y", "pop", "order")
    assert cb.estimate == pytest.approx(-ca.estimate, rel=1e-9, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(pop=pops, values=st.lists(st.floats(min_value=0.5, max_value=99.5), min_size=12, max_size=12),
       ses=st.lists(st.floats(min_value=0.1, max_value=5), min_size=12, max_size=12))
def test_cis_contain_the_estimate(pop, values, ses):
    df = _frame(pop, values, ses)
    for r in equity.combine([
        equity.bgv(df, "y", "pop", se="se"), equity.theil(df, "y", "pop", se="se"),
        equity.mld(df, "y", "pop", se="se"), equity.sii(df, "y", "pop", "order", scale=100),
        equity.rii(df, "y", "pop", "order", scale=100), equity.difference(df, "y", se="se"),
        equity.ratio(df, "y", se="se"),
    ]).itertuples():
        assert r.ci_low <= r.estimate + 1e-9 and r.estimate <= r.ci_high + 1e-9, r.measure
