"""Reshape the wide participants table (``m_w0``, ``m_w24``) to the long form the DiD functions take."""
from __future__ import annotations

import pandas as pd

from ._results import check_columns


def long_measures(participants: pd.DataFrame, measure: str, *, weeks: tuple[int, int] = (0, 24),
                  keep: tuple[str, ...] = ("treated",)) -> pd.DataFrame:
    """Two rows per participant: ``participant_id``, ``post`` (0 = ``weeks[0]``, 1 = ``weeks[1]``),
    ``measure`` value, plus the ``keep`` columns (``treated`` as 0/1)."""
    cols = [f"{measure}_w{weeks[0]}", f"{measure}_w{weeks[1]}"]
    check_columns(participants, ["participant_id", *cols, *keep], "long_measures")
    base = participants[["participant_id", *keep]].copy()
    if "treated" in base:
        base["treated"] = base["treated"].astype(int)
    pre = base.assign(post=0, **{measure: participants[cols[0]].to_numpy()})
    post = base.assign(post=1, **{measure: participants[cols[1]].to_numpy()})
    return pd.concat([pre, post], ignore_index=True)
