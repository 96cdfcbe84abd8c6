"""Header labels -> contract fields: normalisation, the built-in Korean labels, units in parentheses."""
from __future__ import annotations

import re
import unicodedata

from ._contract import FIELDS, PII_LABELS

_PAREN = re.compile(r"[\(\[（［]([^\)\]）］]*)[\)\]）］]")
_DROP = re.compile(r"[\s_\-\.·:：/]+")
# text in parentheses that is a unit or a format hint (dropped from the label), not part of the name
_UNITISH = re.compile(r"^[a-z0-9²/%~\-\.\s,]*$|^(일|일/주|회/주|주당일수|인치|세|년|예/아니오|남/여|유/무|o/x|y/n)$")
# units that contradict the contract's (a column in these units must be converted before hand-over)
WRONG_UNITS = {
    "waist": ("inch", "in", "인치", "m", "mm"),
    "glucose": ("mmol/l", "mmol"),
    "tg": ("mmol/l", "mmol"),
    "hdl": ("mmol/l", "mmol"),
    "sbp": ("kpa",), "dbp": ("kpa",),
}


def normalise(label: object) -> str:
    """Lower-case, NFKC, without spaces and punctuation; parentheses that hold a unit are dropped."""
    text = unicodedata.normalize("NFKC", str(label if label is not None else "")).strip().lower()
    text = _PAREN.sub(lambda m: "" if _UNITISH.match(m.group(1).strip()) else m.group(1), text)
    return _DROP.sub("", text)


def units(label: object) -> list[str]:
    """The unit-like texts in parentheses of a header label (normalised, e.g. ``['mmhg']``)."""
    text = unicodedata.normalize("NFKC", str(label if label is not None else "")).lower()
    return [m.group(1).strip().replace(" ", "") for m in _PAREN.finditer(text) if _UNITISH.match(m.group(1).strip())]


def builtin_labels() -> dict[str, str]:
    """Normalised label -> field for every contract field's Korean and English label, name and aliases."""
    out: dict[str, str] = {}
    for f in FIELDS:
        for label in (f.name, f.ko, f.en, *f.aliases):
            out.setdefault(normalise(label), f.name)
    return out


_BUILTIN = builtin_labels()
_PII = {normalise(k): v for k, v in PII_LABELS.items()}
IGNORE = "-"


def label_table(mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Built-in labels with ``mapping`` (file label -> field, or ``"-"`` to ignore the column) on top."""
    from ._contract import BY_NAME

    table = dict(_BUILTIN)
    for label, field in (mapping or {}).items():
        if field != IGNORE and field not in BY_NAME:
            raise ValueError(f"mapping for column {label!r}: unknown field {field!r}; known: {sorted(BY_NAME)}")
        table[normalise(label)] = field
    return table


def match(label: object, table: dict[str, str]) -> str | None:
    """The field a header label names (``None`` when it names none)."""
    key = normalise(label)
    return table.get(key) if key else None


def pii_kind(label: object) -> str | None:
    """'name', 'phone', ... when a header label names a column of direct identifiers."""
    key = normalise(label)
    return _PII.get(key) if key else None
