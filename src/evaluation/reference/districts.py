"""Seoul's 25 districts (gu): codes, Korean and English names.

Codes and names come from ``seoul_districts_2015.geojson`` (SIG_CD, SIG_KOR_NM,
SIG_ENG_NM); the package carries its own copy so it works without the geometry.
``population_approx`` is a rounded 2023 resident count used only to weight the
synthetic generator, never as an official denominator.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd


@lru_cache(maxsize=1)
def table() -> pd.DataFrame:
    """The 25 districts: ``district`` (5-digit code, str), ``name_ko``, ``name_en``, ``population_approx``."""
    with resources.files("evaluation.reference.data").joinpath("districts.csv").open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"district": str})
    return df


def codes() -> list[str]:
    """District codes in code order."""
    return table()["district"].tolist()


def names(lang: str = "ko") -> dict[str, str]:
    """Map district code -> name in ``lang`` ('ko' or 'en')."""
    col = "name_ko" if lang == "ko" else "name_en"
    t = table()
    return dict(zip(t["district"], t[col]))


def validate(values: pd.Series, *, source: str = "data") -> None:
    """Raise ``ValueError`` naming the first row whose district code is not one of the 25."""
    known = set(codes())
    bad = ~values.astype(str).isin(known)
    if bad.any():
        idx = bad.to_numpy().nonzero()[0][0]
        raise ValueError(
            f"{source}: row {idx}, column 'district': expected one of Seoul's 25 district codes "
            f"(e.g. '11110'), found {values.iloc[idx]!r}"
        )
