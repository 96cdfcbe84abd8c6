"""Korean labels render with a real Hangul font on a fresh machine (no missing-glyph warnings)."""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from evaluation.publish import i18n, plots  # noqa: E402


def test_bundled_font_has_hangul_glyphs():
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(plots.hangul_font_path()))
    for ch in "손목닥터자치구걸음수":
        assert font.get_char_index(ord(ch)) != 0, f"no glyph for {ch!r}"


@pytest.mark.parametrize("with_seaborn", [True, False])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_figure_with_korean_labels_renders_without_glyph_warnings(tmp_path, lang, with_seaborn):
    plots.setup(lang, seaborn=with_seaborn)
    assert font_manager.findfont(plots.HANGUL_FONT, fallback_to_default=False).endswith(".ttf")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would raise
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3], [3, 1, 2])
        ax.set_title(i18n.t("steps_by_week", "ko") + " 강남구 · 서초구")
        ax.set_xlabel(i18n.t("weeks_since_enrolment", lang))
        ax.set_ylabel("−1,000 걸음")
        fig.savefig(tmp_path / "k.png")
        plt.close(fig)
    assert (tmp_path / "k.png").stat().st_size > 1000


def test_labels_exist_in_both_languages():
    assert i18n.t("steps", "ko") == "걸음 수" and i18n.t("steps", "en") == "Steps"
    with pytest.raises(ValueError):
        i18n.t("steps", "fr")
    with pytest.raises(ValueError):
        i18n.register({"x": {"ko": "엑스"}})
