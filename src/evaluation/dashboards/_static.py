"""Static snapshot of a dashboard's default view, served at once when no preheated kernel is free.

A kernel per viewer costs ~2-4 s of CPU to start and render; on the 2-core server a burst of 10-30 staff
opening the same dashboard queues behind kernel starts (bench_dashboards.py). Every viewer's first
screen is the same default view of the same run, so it is rendered once per run (in a subprocess, off
Voila's event loop) by walking the very widget tree the dashboard builds, and served as plain HTML. The
page loads the live dashboard in a hidden frame and swaps it in when its widgets are drawn; controls
are shown disabled until then.

Run as ``python -m evaluation.dashboards._static NAME [LANG]``: prints the snapshot's inner HTML.
"""
from __future__ import annotations

import base64
import html
import sys
import time
from typing import Any

DASHBOARDS = ("overview", "districts", "cost")


def _style(layout: Any) -> str:
    out = []
    for trait, css in (("flex_flow", "flex-flow"), ("align_items", "align-items"), ("width", "width"),
                       ("justify_content", "justify-content"), ("margin", "margin"), ("padding", "padding")):
        value = getattr(layout, trait, None) if layout is not None else None
        if value:
            out.append(f"{css}:{value}")
    return ";".join(out)


def widget_html(w: Any) -> str:
    """HTML for an ipywidgets tree (the kinds the dashboards use); unknown widgets are left out."""
    import ipywidgets as W

    if isinstance(w, W.Box):
        direction = "row" if isinstance(w, W.HBox) else "column"
        style = _style(w.layout)
        flow = "" if "flex-flow" in style else f"flex-direction:{direction};"
        inner = "".join(widget_html(c) for c in w.children)
        return f"<div class='ev-static-box' style='display:flex;gap:4px;{flow}{style}'>{inner}</div>"
    if isinstance(w, W.HTML):  # built by the dashboards with every data value escaped
        return f"<div class='ev-static-html'>{w.value}</div>"
    if isinstance(w, W.Image):
        data = base64.b64encode(bytes(w.value)).decode()
        size = "".join(f"{k}='{html.escape(str(v))}' " for k, v in (("width", w.width), ("height", w.height)) if v)
        return f"<img {size}style='max-width:100%' src='data:image/{w.format};base64,{data}'>"
    if isinstance(w, W.ToggleButtons):
        buttons = "".join(
            f"<button disabled{' class=selected' if value == w.value else ''}>{html.escape(str(label))}</button>"
            for label, value in zip(w._options_labels, w._options_values))
        return f"<span class='ev-static-toggle'>{buttons}</span>"
    if isinstance(w, (W.Dropdown, W.Select)):
        label = w.label if w.label is not None else ""
        return (f"<label class='ev-static-select'>{html.escape(w.description or '')} "
                f"<select disabled><option selected>{html.escape(str(label))}</option></select></label>")
    return ""


def snapshot(name: str, lang: str = "ko", root: str | None = None) -> str:
    """Inner HTML of dashboard ``name``'s default view (overview, districts or cost)."""
    from . import views

    if name not in DASHBOARDS:
        raise ValueError(f"unknown dashboard {name!r}: one of {DASHBOARDS}")
    build = {"overview": views.overview_app, "districts": views.districts_app, "cost": views.cost_app}[name]
    return widget_html(build(lang=lang, root=root))


def page(inner: str, *, live_url: str, lang: str = "ko") -> str:
    """The whole snapshot page: the default view at once, the live dashboard swapped in when drawn."""
    note = ("실시간 화면을 준비하고 있습니다. 잠시 후 선택 메뉴를 사용할 수 있습니다."
            " / Preparing the live view; the menus work in a moment.")
    return f"""<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>
<title>대시보드 / Dashboard</title><link rel='icon' href='data:,'>
<style>
 body {{ font-family: "NanumGothic", "Malgun Gothic", "Apple SD Gothic Neo", "Noto Sans CJK KR", sans-serif;
        margin: 0; padding: 8px 16px; color: #1f2328; }}
 #ev-note {{ background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; font-size: 13px; margin-bottom: 8px; }}
 .ev-static-toggle button {{ margin-right: 2px; }} .ev-static-toggle button.selected {{ font-weight: bold; }}
 .ev-static-select {{ margin-right: 12px; font-size: 13px; }}
 #ev-live {{ position: fixed; inset: 0; width: 100%; height: 100%; border: 0; visibility: hidden; background: #fff; }}
</style></head><body data-ev-static='1'>
<div id='ev-note'>{html.escape(note)}</div>
<div id='ev-static'>{inner}</div>
<iframe id='ev-live' src='{html.escape(live_url)}' title='live'></iframe>
<script>
(function () {{
  const frame = document.getElementById('ev-live');
  // the live page shuts its kernel down on its own "beforeunload"; pass ours on to it
  window.addEventListener('beforeunload', function () {{
    try {{ frame.contentWindow.dispatchEvent(new Event('beforeunload')); }} catch (e) {{}}
  }});
  const timer = setInterval(function () {{
    let doc = null;
    try {{ doc = frame.contentDocument; }} catch (e) {{ return; }}
    if (doc && doc.querySelector('[data-render-ms]')) {{
      clearInterval(timer);
      frame.style.visibility = 'visible';
      document.getElementById('ev-static').remove();
      document.getElementById('ev-note').remove();
      document.body.style.overflow = 'hidden';
    }}
  }}, 250);
}})();
</script></body></html>"""


def main(argv: list[str]) -> None:
    name, lang = argv[0], (argv[1] if len(argv) > 1 else "ko")
    start = time.perf_counter()
    inner = snapshot(name, lang)
    sys.stdout.write(inner)
    sys.stderr.write(f"snapshot {name} {lang}: {time.perf_counter() - start:.1f} s\n")


if __name__ == "__main__":
    main(sys.argv[1:])
