"""Command line: ``evaluation run|validate|build|records|runs|samples|dashboard|audit``.

Exit codes: 0 success, 1 a notebook failed, 2 invalid parameters or usage,
3 the attack audit found published counts an outsider can recover (the run is not published),
74 (EX_IOERR) writing the run failed (disk full, quota, I/O error),
75 (EX_TEMPFAIL) another run of the programme holds the lock -- so cron and
systemd can tell "retry later" from "fix the parameters" from "free disk space".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_FAILED, EXIT_PARAMS, EXIT_EXPOSED, EXIT_IOERR, EXIT_LOCKED = 1, 2, 3, 74, 75


def _cmd_run(args: argparse.Namespace) -> int:
    from .runs import params
    from . import runs

    def hook(status: str, code: int, message: str = "", run_dir: Path | None = None) -> None:
        if args.notify and (args.notify_on == "always" or code != 0):
            programme = run_dir.parent.name if run_dir else ""
            runs.notify(args.notify, status=status, exit_code=code, programme=programme,
                        run_id=run_dir.name if run_dir else "", run_dir=run_dir, message=message,
                        params_file=str(args.params))

    try:
        result = runs.run(args.params, base_dir=args.project_root, output_root=args.output_root, quiet=args.quiet,
                          allow_outside=args.allow_outside_paths)
    except params.ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        hook("invalid", EXIT_PARAMS, str(exc))
        return EXIT_PARAMS
    except runs.RunLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        hook("locked", EXIT_LOCKED, str(exc))
        return EXIT_LOCKED
    except runs.RunFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        hook({EXIT_IOERR: "io-error", EXIT_EXPOSED: "refused"}.get(exc.exit_code, "failed"), exc.exit_code, str(exc),
             exc.run_dir)
        return exc.exit_code
    except Exception as exc:  # e.g. the kernel is not installed: still tell the operator, then show the traceback
        hook("error", EXIT_FAILED, f"{type(exc).__name__}: {exc}")
        raise
    hook("ok", 0, result.summary(), result.run_dir)
    print(result.summary())
    print(f"report: {result.run_dir / 'reports'}")
    print(f"results: {result.run_dir / 'results.json'}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .runs import params

    try:
        base = Path(args.project_root) if args.project_root else params.default_base_dir(Path(args.params))
        cfg = params.load(args.params, base_dir=base, allow_outside=args.allow_outside_paths)
        for spec in cfg.notebooks:
            params.notebook_parameters(cfg, spec, base_dir=base, output_dir=Path("/tmp/validate"))
    except params.ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    print(f"{args.params}: valid ({len(cfg.notebooks)} notebooks, programme {cfg.programme})")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from . import store
    from .runs import params

    try:
        result = store.build(args.params, scheduler=args.scheduler, verify=args.verify, progress=not args.quiet)
    except params.ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    except store.BuildLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (store.StoreError, FileNotFoundError) as exc:  # a store made with other settings, a missing folder
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    print(result)
    print(f"daily store: {result.daily_path}")
    return EXIT_FAILED if result.files_failed else 0


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        label, sep, field = pair.partition("=")
        if not sep or not label.strip() or not field.strip():
            raise ValueError(f"--map expects LABEL=FIELD, e.g. '최고혈압=sbp' (got {pair!r})")
        out[label.strip()] = field.strip()
    return out


def _cmd_records_check(args: argparse.Namespace) -> int:
    from . import records

    try:
        rec = records.check(args.files, mapping=_mapping(args.map), optional=args.optional)
    except ValueError as exc:  # an unknown field in --map
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    lines = rec.error_lines(args.lang)
    for line in lines:
        print(line)
    print(rec.summary(args.lang), file=sys.stderr if lines else sys.stdout)
    return EXIT_PARAMS if lines else 0


def _cmd_records_build(args: argparse.Namespace) -> int:
    from .runs import params
    from . import records
    from .records._build import RecordsRefusedError

    try:
        result = records.build(args.params)
    except (params.ParamsError, RecordsRefusedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    for line in result.records.error_lines(args.lang):  # damaged rows were quarantined; the rest was built
        print(line)
    print(result.summary(args.lang))
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from . import runs

    root = Path(args.output_root)
    if not (root / args.programme).is_dir():
        known = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")) if root.is_dir() else []
        print(f"error: no programme {args.programme!r} under {root} (known: {', '.join(known) or 'none'})", file=sys.stderr)
        return EXIT_PARAMS
    if args.prune is not None:
        if args.prune < 1:
            print("error: --prune needs N >= 1 (the newest successful run is always kept)", file=sys.stderr)
            return EXIT_PARAMS
        try:
            removed = runs.prune_runs(args.programme, args.prune, root, dry_run=args.dry_run)
        except runs.RunLockedError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_LOCKED
        verb = "would remove" if args.dry_run else "removed"
        for path in removed:
            print(f"{verb} {path}")
        print(f"{verb} {len(removed)} run folder(s)")
        return 0
    latest = runs.latest(args.programme, args.output_root)
    listed = runs.list_runs(args.programme, args.output_root)
    if not listed:
        print(f"no runs of {args.programme} yet")
    for r in listed:
        mark = " <- latest" if latest and r["path"].resolve() == latest else ""
        print(f"{r['run_id']:<24} {r['status']:<8} {r['path']}{mark}")
    return 0


def _cmd_samples(args: argparse.Namespace) -> int:
    from .synth.samples import write_samples

    for name, path in write_samples(args.folder).items():
        print(f"{name}: {path}")
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from . import dashboards

    # the token never travels in argv (visible to every local user through `ps`): env or a file
    try:
        token = Path(args.token_file).read_text(encoding="utf-8").strip() if args.token_file else None
    except OSError:  # the path is not echoed: it may be a token typed in by mistake
        print("error: --token-file is not a readable file (put the token in a file or in "
              "$EVALUATION_DASHBOARD_TOKEN, never on the command line)", file=sys.stderr)
        return EXIT_PARAMS
    return dashboards.serve(
        host=args.host, port=args.port, output_root=args.output_root, token=token, open_browser=False,
        base_url=args.base_url, max_kernels=args.max_kernels,
    )


def _cmd_audit(args: argparse.Namespace) -> int:
    from .publish import attacks

    run_dir = Path(args.run_dir)
    if not (run_dir / "tables").is_dir() and not (run_dir / "results.json").is_file():
        print(f"error: {run_dir} is not a run folder (no tables/ or results.json)", file=sys.stderr)
        return EXIT_PARAMS
    rep = attacks.audit_run(run_dir, threshold=args.threshold)
    print(rep.summary(args.lang))
    if rep.exposed and args.cells:
        print(rep.table.head(args.cells).to_string(index=False))
    return EXIT_EXPOSED if rep.exposed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evaluation", description="Seoul digital health programme evaluation workbench")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute a parameter file's notebooks into outputs/<programme>/<run-id>/")
    p.add_argument("params", help="params/<name>.yaml")
    p.add_argument("--output-root", default=None, help="override the output folder (default from the params file)")
    p.add_argument("--quiet", action="store_true", help="no progress lines (the summary is still printed)")
    _path_flags(p)
    p.add_argument("--notify", metavar="CMD", default=None,
                   help="shell command run when the run does not succeed, with EVALUATION_STATUS, EVALUATION_EXIT_CODE, "
                        "EVALUATION_PROGRAMME, EVALUATION_RUN_ID, EVALUATION_RUN_DIR, EVALUATION_MESSAGE set")
    p.add_argument("--notify-on", choices=("failure", "always"), default="failure")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("validate", help="check a parameter file and its notebooks' parameters without running")
    p.add_argument("params")
    _path_flags(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("build", help="ingest new or changed exports into the minutes and daily stores (incremental)")
    p.add_argument("params", help="params/<name>.yaml with a 'build:' section")
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address, e.g. tcp://host:8786 ('local': a LocalCluster; default: this process)")
    p.add_argument("--verify", action="store_true", help="re-hash every export instead of trusting size and modification time")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("records", help="programme records (enrolment, screening, surveys): check files or build participants")
    rsub = p.add_subparsers(dest="records_command", required=True)
    q = rsub.add_parser("check", help="validate records files; exit 0 when valid, 2 with every error (file, row, column)")
    q.add_argument("files", nargs="+", help="CSV (UTF-8 or CP949) or Excel files, or folders of them")
    q.add_argument("--map", action="append", metavar="LABEL=FIELD", default=[],
                   help="a header label the built-in Korean labels do not cover, e.g. '최고혈압=sbp' (repeatable)")
    q.add_argument("--optional", action="append", metavar="FIELD", default=[],
                   help="a required field these files do not carry, e.g. 'district' for a centre outside Seoul (repeatable)")
    q.add_argument("--lang", choices=("ko", "en"), default="ko")
    q.set_defaults(func=_cmd_records_check)
    q = rsub.add_parser("build", help="read the params file's records: section into its participants table")
    q.add_argument("params", help="params/<name>.yaml with a 'records:' section")
    q.add_argument("--lang", choices=("ko", "en"), default="ko")
    q.set_defaults(func=_cmd_records_build)

    p = sub.add_parser("runs", help="list the runs of a programme, or prune old ones")
    p.add_argument("programme")
    p.add_argument("--output-root", default="outputs")
    p.add_argument("--prune", type=int, metavar="N", default=None,
                   help="delete old runs: keep the N newest successful runs and every failed run newer than the newest success")
    p.add_argument("--dry-run", action="store_true", help="with --prune: list what would be removed")
    p.set_defaults(func=_cmd_runs)

    p = sub.add_parser("samples", help="regenerate the synthetic samples in data_samples/")
    p.add_argument("--folder", default="data_samples")
    p.set_defaults(func=_cmd_samples)

    p = sub.add_parser("dashboard", help="serve the Voila dashboards on 127.0.0.1 with a token")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--output-root", default="outputs")
    p.add_argument("--token-file", default=None,
                   help="file holding the access token (default: $EVALUATION_DASHBOARD_TOKEN or a new random one)")
    p.add_argument("--max-kernels", type=int, default=None, help="cap on kernels handed to visitors (default: from memory)")
    p.add_argument("--base-url", default="/", help="URL prefix when served behind a reverse proxy, e.g. /evaluation/")
    p.set_defaults(func=_cmd_dashboard)
    p = sub.add_parser("audit", help="attack a run's published tables, results.json and reports as an outsider (exit 3 if exposed)")
    p.add_argument("run_dir", help="a run folder, e.g. outputs/<programme>/latest")
    p.add_argument("--threshold", type=int, default=10, help="smallest count of people that may be recovered")
    p.add_argument("--lang", choices=("ko", "en"), default="ko")
    p.add_argument("--cells", type=int, default=20, metavar="N", help="list the first N exposed cells (0: none)")
    p.set_defaults(func=_cmd_audit)
    return parser


def _path_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project-root", default=None,
                   help="folder relative paths in the params file refer to (default: the nearest folder above the "
                        "params file holding notebooks/, else the current folder)")
    p.add_argument("--allow-outside-paths", action="store_true",
                   help="allow notebooks outside notebooks/ and an output_root outside outputs/")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
