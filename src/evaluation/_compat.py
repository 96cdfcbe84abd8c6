"""Old module names, kept working for one release with a :class:`DeprecationWarning`.

The package was laid out along the data's way (see the README's layout section). Code that
still imports ``evaluation.report``, ``evaluation.build._store`` and the like gets the module at its new
place, the very same module object, so state and monkeypatching stay shared. A meta-path finder does
this instead of a stub file per old name, so the top of the package holds no loose modules.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

#: old dotted name -> new dotted name (a prefix: submodules follow their package)
MOVED: dict[str, str] = {
    "evaluation.build": "evaluation.store",
    "evaluation.engagement": "evaluation.cohort.engagement",
    "evaluation.overview": "evaluation.cohort.overview",
    "evaluation.districts": "evaluation.reference.districts",
    "evaluation.official_stats": "evaluation.reference.official_stats",
    "evaluation.data": "evaluation.reference.data",
    "evaluation.params": "evaluation.runs.params",
    "evaluation._kernel": "evaluation.runs._kernel",
    **{f"evaluation.{m}": f"evaluation.publish.{m}" for m in (
        "report", "report_html", "staff_table", "provenance", "result_labels", "glossary", "i18n", "plots",
        "suppression", "disclosure")},
}

#: names the old ``evaluation.store`` (the published-tables store) had; ``evaluation.store`` is now the
#: build store, whose module ``__getattr__`` forwards these with a warning
RESULTS_STORE_NAMES = frozenset({"save", "tables", "load", "connect", "query"})


def new_name(old: str) -> str | None:
    """The module's name in this release, or None when ``old`` did not move."""

    for prefix in sorted(MOVED, key=len, reverse=True):
        if old == prefix or old.startswith(prefix + "."):
            return MOVED[prefix] + old[len(prefix):]
    return None


def warn_moved(old: str, new: str, stacklevel: int = 3) -> None:
    warnings.warn(f"{old} moved to {new}; the old name goes in the next release", DeprecationWarning,
                  stacklevel=stacklevel)


class _Alias(importlib.abc.Loader):
    def __init__(self, target: ModuleType) -> None:
        self.target = target
        self.spec = target.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.target

    def exec_module(self, module: ModuleType) -> None:
        # the import machinery stamped the alias spec on the real module: give it its own back
        module.__spec__ = self.spec


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path=None, target=None):  # noqa: ANN001 (importlib's signature)
        new = new_name(fullname) if fullname.startswith("evaluation.") else None
        if new is None:
            return None
        warn_moved(fullname, new, stacklevel=6)
        module = importlib.import_module(new)
        is_pkg = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _Alias(module), is_package=is_pkg)


def install() -> None:
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        # first: otherwise the path finder would load a second copy of ``evaluation.build._store`` from the
        # aliased package's __path__
        sys.meta_path.insert(0, _MovedFinder())
