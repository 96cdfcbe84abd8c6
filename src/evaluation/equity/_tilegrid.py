"""The package-carried tile-grid layout of Seoul's 25 districts.

``seoul_tilegrid.csv`` (our own design) puts each district on a (row, col) cell
of a 5 x 6 grid that roughly follows geography: row 0 is the north (Eunpyeong,
Jongno, Gangbuk, Dobong, Nowon), rows 0-2 lie north of the Han river, rows 3-4
south of it, col 0 is the west (Gangseo, Yangcheon, Guro). Equal-sized tiles
let small central districts (Jung-gu, Jongno-gu) be seen as clearly as large ones.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from ..reference import districts


@lru_cache(maxsize=1)
def tilegrid() -> pd.DataFrame:
    """``district`` (code, str), ``row`` (0 = north), ``col`` (0 = west), ``name_ko``, ``name_en``."""
    with resources.files("evaluation.reference.data").joinpath("seoul_tilegrid.csv").open("r", encoding="utf-8") as fh:
        grid = pd.read_csv(fh, dtype={"district": str})
    districts.validate(grid["district"], source="seoul_tilegrid.csv")
    names = districts.table()[["district", "name_ko", "name_en"]]
    return grid.merge(names, on="district", how="left")
