"""Figure defaults that render Hangul on a fresh machine.

The Hangul font is NanumGothic as shipped inside the ``koreanize-matplotlib``
wheel (a PyPI dependency), so no system font package is needed. We register the
file ourselves instead of importing that package because its import mutates
global state with no way to choose the language.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib

from .i18n import check_lang

HANGUL_FONT = "NanumGothic"


@lru_cache(maxsize=1)
def hangul_font_path() -> Path:
    """Path of the bundled NanumGothic TTF; ``FileNotFoundError`` if the wheel lacks it."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("koreanize-matplotlib is not installed; run `make demo` or `pip install -e .`")
    root = Path(spec.origin).parent
    candidates = sorted(root.rglob("NanumGothic*.ttf"))
    regular = [p for p in candidates if p.stem == "NanumGothic"] or candidates
    if not regular:
        raise FileNotFoundError(f"no NanumGothic*.ttf under {root}")
    return regular[0]


def setup(lang: str = "ko", *, context: str = "notebook", seaborn: bool = True) -> None:
    """Set matplotlib / seaborn defaults: Hangul font, readable sizes, no unicode minus glitch.

    Call once at the top of a notebook or dashboard. Safe to call repeatedly.
    ``seaborn=False`` uses matplotlib's copy of the same white-grid style and
    skips importing seaborn (and scipy.stats), which keeps dashboard kernels
    light to start.
    """
    check_lang(lang)
    from matplotlib import font_manager

    path = hangul_font_path()
    if HANGUL_FONT not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    if seaborn:
        import seaborn as sns

        sns.set_theme(context=context, style="whitegrid", font=HANGUL_FONT)
    else:
        from matplotlib import style

        style.use("seaborn-v0_8-whitegrid")
    matplotlib.rcParams["font.family"] = [HANGUL_FONT, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["savefig.dpi"] = 120
    matplotlib.rcParams["savefig.bbox"] = "tight"
    if context == "notebook":
        from .staff_table import install_display

        install_display(lang)  # tables in notebooks and reports read like the dashboards'


def thousands(x: float, _pos: int | None = None) -> str:
    """Tick formatter: 12,345."""
    return f"{x:,.0f}"
