"""`tokensim explore`: start the explorer's web server on this machine.

    tokensim explore                               # scenarios/ (baseline.yaml and every policy)
    tokensim explore scenarios/ --port 8060 --reps 4 --horizon-days 60
    tokensim explore scenarios/ --dask tcp://HOST:8786

Everything the reader could get wrong on the command line (a missing file, a bad key in a
scenario, a port already taken, the `explore` extra not installed) is checked before the
server starts and reported in one line with exit status 2, as by every `tokensim` command.
The web framework is imported only here, when the command runs, so `tokensim` itself never
needs it.
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from sim.explore.catalogue import Catalogue
from sim.scenario import ScenarioError

DEFAULT_INPUTS = ["scenarios"]
DEFAULT_PORT = 8050
DEFAULT_HOST = "127.0.0.1"
DEFAULT_REPS = 6
DEFAULT_HORIZON_DAYS = 250
DEFAULT_OUT = "outputs/explore"
INSTALL_HINT = "pip install 'leap-tokensim[explore]'"


def add_parser(subparsers: Any, add_overrides: Any) -> None:
    """Register the `explore` subcommand on the `tokensim` subcommand parser."""
    explore = subparsers.add_parser(
        "explore", help="a local web page: move a policy's levers and see its effect against its comparator")
    explore.add_argument("files", nargs="*", metavar="SCENARIO",
                         help="scenario files or folders of them (default: scenarios/); baseline.yaml is the baseline")
    explore.add_argument("--baseline", metavar="FILE", help="the baseline scenario (default: the input named baseline.yaml)")
    explore.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)")
    explore.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")
    explore.add_argument("--out", default=DEFAULT_OUT, help=f"folder of the runs and the cache (default: {DEFAULT_OUT})")
    explore.add_argument("--reps", type=int, default=DEFAULT_REPS,
                         help=f"replications of each setting and its comparator (default: {DEFAULT_REPS})")
    explore.add_argument("--horizon-days", type=int, default=DEFAULT_HORIZON_DAYS, metavar="DAYS",
                         help=f"business days each run simulates (default: {DEFAULT_HORIZON_DAYS})")
    explore.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    explore.add_argument("--dask", metavar="ADDRESS", default=None, help="run on an existing Dask scheduler instead")
    add_overrides(explore)
    explore.set_defaults(handler=command_explore)


def _check_options(args: argparse.Namespace) -> None:
    if args.reps < 1:
        raise ScenarioError("--reps", "", "must be at least 1", args.reps)
    if args.horizon_days < 1:
        raise ScenarioError("--horizon-days", "", "must be at least 1", args.horizon_days)
    if not 0 < args.port < 65536:
        raise ScenarioError("--port", "", "must be between 1 and 65535", args.port)
    if args.workers is not None and args.workers < 1:
        raise ScenarioError("--workers", "", "must be at least 1", args.workers)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ScenarioError("--out", "", "is a file, not a folder", args.out)


def _check_port(host: str, port: int) -> None:
    """Refuse a host or port this machine cannot listen on, before anything starts."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        reason = (error.strerror or str(error)).split(" (while")[0]
        raise ScenarioError("--port", "", f"cannot listen on {host}:{port}: {reason}") from None


def build(args: argparse.Namespace) -> Any:
    """The web application for these arguments (the scenarios loaded and checked, the runner started)."""
    try:
        from sim.explore.app import Explorer, create_app
        from sim.explore.jobs import Runner
    except ImportError as error:
        raise ScenarioError("explore", "", f"the explorer needs FastAPI and uvicorn ({error.name} is missing): "
                            f"{INSTALL_HINT}") from None
    _check_options(args)
    catalogue = Catalogue(args.files or DEFAULT_INPUTS, args.baseline, [f"horizon_days={args.horizon_days}", *args.set])
    runner = Runner(Path(args.out), workers=args.workers, dask=args.dask)
    return create_app(Explorer(catalogue, runner, args.reps, workers=args.workers, dask=args.dask)), catalogue


def command_explore(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        raise ScenarioError("explore", "", f"the explorer needs FastAPI and uvicorn (uvicorn is missing): {INSTALL_HINT}") from None
    _check_options(args)
    _check_port(args.host, args.port)
    app, catalogue = build(args)
    print(f"tokensim explore: http://{args.host}:{args.port}/ (Ctrl-C to stop): {len(catalogue.policies)} policies, "
          f"{args.horizon_days} business days, {args.reps} replications, runs in {args.out}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
