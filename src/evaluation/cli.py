"""Command line: ``evaluation run|validate|runs|samples|dashboard``.

Exit codes: 0 success, 1 a notebook failed, 2 invalid parameters or usage,
75 (EX_TEMPFAIL) another run of the programme holds the lock -- so cron and
systemd can tell "retry later" from "fix the parameters".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_FAILED, EXIT_PARAMS, EXIT_LOCKED = 1, 2, 75


def _cmd_run(args: argparse.Namespace) -> int:
    from . import params, runs

    try:
        result = runs.run(args.params, output_root=args.output_root, quiet=args.quiet)
    except params.ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    except runs.RunLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except runs.RunFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary())
    print(f"report: {result.run_dir / 'reports'}")
    print(f"results: {result.run_dir / 'results.json'}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from . import params

    try:
        cfg = params.load(args.params)
        base = params.default_base_dir(Path(args.params))
        for spec in cfg.notebooks:
            params.notebook_parameters(cfg, spec, base_dir=base, output_dir=Path("/tmp/validate"))
    except params.ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PARAMS
    print(f"{args.params}: valid ({len(cfg.notebooks)} notebooks, programme {cfg.programme})")
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from . import runs

    latest = runs.latest(args.programme, args.output_root)
    for r in runs.list_runs(args.programme, args.output_root):
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evaluation", description="Seoul digital health programme evaluation workbench")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute a parameter file's notebooks into outputs/<programme>/<run-id>/")
    p.add_argument("params", help="params/<name>.yaml")
    p.add_argument("--output-root", default=None, help="override the output folder (default from the params file)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("validate", help="check a parameter file and its notebooks' parameters without running")
    p.add_argument("params")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("runs", help="list the runs of a programme")
    p.add_argument("programme")
    p.add_argument("--output-root", default="outputs")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
