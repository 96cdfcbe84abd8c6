"""Cost ledgers: the tidy table every cost function reads, and the seed transcriptions.

A ledger has one row per (programme, year/period, item, funding source) with
amounts in whole KRW. The seeds print amounts in 천원 (thousand KRW) or 백만원
(million KRW, with one decimal); :func:`to_krw` converts exactly with
:class:`decimal.Decimal` so that reconciliation with printed totals is exact.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Literal

import pandas as pd

LEDGER_COLUMNS: tuple[str, ...] = (
    "programme", "year", "item", "category", "funding_source", "planned_krw", "executed_krw",
    "units", "unit_cost_krw", "source",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("period", "category_en", "note")
FUNDING_SOURCES: tuple[str, ...] = ("national", "provincial", "city", "district", "other")
Unit = Literal["krw", "thousand", "million"]
_UNIT_FACTOR = {"krw": Decimal(1), "thousand": Decimal(1_000), "million": Decimal(1_000_000)}

#: The seed transcriptions committed under ``data_samples/`` (name -> file name).
SEED_LEDGERS: dict[str, str] = {
    "smartband_categories": "ledger_smartband_categories.csv",
    "smartband_items_2023": "ledger_smartband_items_2023.csv",
    "district_plan": "ledger_district_plan.csv",
    "district_secured": "ledger_district_secured.csv",
    "foundation_budget": "ledger_foundation_budget.csv",
    "foundation_projects_2022": "ledger_foundation_projects_2022.csv",
}


def to_krw(value: str | int | float, unit: Unit = "thousand") -> int:
    """Convert a printed amount (``"9,899,467"``, ``"△175,000"``, ``"47.6"``) in ``unit`` to whole KRW.

    Raises ``ValueError`` if the amount is not a whole number of KRW after conversion.
    """
    if unit not in _UNIT_FACTOR:
        raise ValueError(f"unit must be one of {tuple(_UNIT_FACTOR)}, got {unit!r}")
    text = str(value).strip().replace(",", "").replace("△", "-").replace("▲", "-")
    try:
        amount = Decimal(text) * _UNIT_FACTOR[unit]
    except InvalidOperation as exc:
        raise ValueError(f"cannot read amount {value!r}") from exc
    if amount != amount.to_integral_value():
        raise ValueError(f"{value!r} {unit} is not a whole number of KRW")
    return int(amount)


def validate_ledger(df: pd.DataFrame, *, name: str = "ledger") -> pd.DataFrame:
    """Check columns and values of a ledger; return a copy with canonical dtypes.

    Errors name the ledger, the column and the first offending row.
    """
    missing = [c for c in LEDGER_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; a ledger needs {list(LEDGER_COLUMNS)}")
    out = df.copy()
    for col in ("planned_krw", "executed_krw", "units", "unit_cost_krw"):
        num = pd.to_numeric(out[col], errors="coerce")
        bad = out[col].notna() & num.isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ValueError(f"{name}: column {col!r} row {row} is not a number: {out[col].iloc[row]!r}")
        neg = num < 0
        if neg.any():
            row = int(neg.to_numpy().nonzero()[0][0])
            raise ValueError(f"{name}: column {col!r} row {row} is negative ({num.iloc[row]})")
        out[col] = num.astype("Int64") if col != "units" else num
    out["year"] = pd.to_numeric(out["year"], errors="coerce").astype("Int64")
    bad_src = ~out["funding_source"].isin(FUNDING_SOURCES)
    if bad_src.any():
        row = int(bad_src.to_numpy().nonzero()[0][0])
        raise ValueError(
            f"{name}: column 'funding_source' row {row} is {out['funding_source'].iloc[row]!r}; "
            f"expected one of {FUNDING_SOURCES}"
        )
    if out["planned_krw"].isna().any():
        row = int(out["planned_krw"].isna().to_numpy().nonzero()[0][0])
        raise ValueError(f"{name}: column 'planned_krw' row {row} is empty")
    over = out["executed_krw"].notna() & (out["executed_krw"] > out["planned_krw"])
    if over.any():
        row = int(over.to_numpy().nonzero()[0][0])
        raise ValueError(f"{name}: row {row} executed_krw exceeds planned_krw (available budget)")
    for col in OPTIONAL_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    return out


def read_ledger(path: str | Path) -> pd.DataFrame:
    """Read and validate one ledger CSV."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"ledger file not found: {p}")
    df = pd.read_csv(p, dtype={"programme": str, "item": str, "category": str, "source": str, "period": str})
    return validate_ledger(df, name=p.name)


def seed_ledger(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """One of the committed seed transcriptions (see :data:`SEED_LEDGERS`)."""
    if name not in SEED_LEDGERS:
        raise ValueError(f"unknown seed ledger {name!r}; choose one of {sorted(SEED_LEDGERS)}")
    if data_dir is None:
        from ..publish.report import repo_root

        data_dir = repo_root() / "data_samples"
    return read_ledger(Path(data_dir) / SEED_LEDGERS[name])


def load_ledgers(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate several ledger CSVs (each validated) into one tidy ledger."""
    frames = [read_ledger(p) for p in paths]
    if not frames:
        raise ValueError("no ledger paths given")
    return pd.concat(frames, ignore_index=True)


def ledger_totals(ledger: pd.DataFrame, by: str | list[str] = "year") -> pd.DataFrame:
    """Planned and executed totals (KRW) by the given column(s); executed is NA where none is recorded."""
    by = [by] if isinstance(by, str) else list(by)
    led = validate_ledger(ledger)
    g = led.groupby(by, dropna=False, observed=True)
    out = g["planned_krw"].sum().to_frame("planned_krw")
    out["executed_krw"] = g["executed_krw"].sum(min_count=1)
    out["n_items"] = g.size()
    return out.reset_index()
