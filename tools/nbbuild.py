"""Build a notebook without outputs from a compact list of cells (used to author notebooks/*.ipynb).

Usage inside a build script::

    from nbbuild import notebook
    notebook("notebooks/10_x.ipynb", [("md", "# Title"), ("params", "lang = 'ko'"), ("code", "...")])
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def notebook(path: str | Path, cells: list[tuple[str, str]], *, kernel: str = "evaluation") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python (evaluation)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "params":
            nb.cells.append(nbformat.v4.new_code_cell(src, metadata={"tags": ["parameters"]}))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src))
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i:02d}"
    path = Path(path)
    nbformat.write(nb, str(path))
    return path


if __name__ == "__main__":
    sys.exit("import this module from a build script")
