"""``python -m evaluation.dashboards NOTEBOOK_DIR ...``: the Voila process that :func:`evaluation.dashboards.serve`
starts (see ``_service``). A separate entry module, so ``_service`` is imported once under its own name
(``voila.json`` names its kernel manager class by that name)."""
from ._service import main

main()
