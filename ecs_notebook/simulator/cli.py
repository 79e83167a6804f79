"""``ecs-notebook simulator``: serve the simulator over HTTP until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, TextIO

from .core import DEFAULT_IAM_DOMAIN, DEFAULT_IAM_USER, Simulator
from .faults import FaultSpec
from .models import CLOUD_JOB_JITTER, CLOUD_JOB_SECONDS

ENV_AK = "HUAWEICLOUD_SDK_AK"
ENV_SK = "HUAWEICLOUD_SDK_SK"
ENV_PROJECT = "HUAWEICLOUD_SDK_PROJECT_ID"
ENV_IAM_USER = "ECS_SIM_IAM_USER"
ENV_IAM_PASSWORD = "ECS_SIM_IAM_PASSWORD"  # noqa: S105 (a variable name)
ENV_IAM_DOMAIN = "ECS_SIM_IAM_DOMAIN"


def _faults(text: str) -> FaultSpec:
    try:
        return FaultSpec.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to ``parser``."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    add("--fleet", metavar="FILE", help="JSON fleet file (instead of --servers/--seed)")
    add("--servers", type=int, default=20, metavar="N", help="servers to generate (default 20)")
    add("--seed", type=int, default=0, metavar="S", help="seed of the generated fleet (default 0)")
    add(
        "--job-seconds",
        type=float,
        default=CLOUD_JOB_SECONDS,
        metavar="X",
        help=f"reinstall duration (default {CLOUD_JOB_SECONDS:g}, about the cloud's)",
    )
    add(
        "--job-jitter",
        type=float,
        default=CLOUD_JOB_JITTER,
        metavar="F",
        help=f"duration jitter share (default {CLOUD_JOB_JITTER:g})",
    )
    add("--latency-ms", type=float, default=0.0, metavar="L", help="added latency per answer")
    add("--latency-jitter-ms", type=float, default=0.0, metavar="J", help="random extra latency")
    add("--rate-limit", type=float, default=None, metavar="R", help="requests/s per user")
    add(
        "--faults",
        type=_faults,
        default=None,
        metavar="SPEC",
        help="fault shares, e.g. '500=0.10,Common.0024=0.05,Common.1503=0.05,late500=0.02,"
        "reset=0.02,lost=0.01,slow=0.01'",
    )
    add("--region", default="sim-1", help="region id the simulator pretends to be (sim-1)")
    add(
        "--lenient-mode",
        action="store_true",
        default=None,
        help="model a lenient region: reinstall a running server sent without mode "
        "(default: Ecs.0100 unless mode=withStopServer)",
    )
    add("--no-byol", action="store_true", help="refuse BYOL (Ecs.0090)")
    add("--token-lifetime", type=float, default=24 * 3600.0, metavar="S", help="IAM token life")


def _build(args: argparse.Namespace, env: dict[str, str]) -> Simulator:
    return Simulator(
        servers=args.servers,
        seed=args.seed,
        job_seconds=args.job_seconds,
        job_jitter=args.job_jitter,
        rate_limit=args.rate_limit,
        faults=args.faults,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        fleet=args.fleet,
        byol_supported=False if args.no_byol else None,
        access_key=env.get(ENV_AK) or None,
        secret_key=env.get(ENV_SK) or None,
        project_id=env.get(ENV_PROJECT) or None,
        region=args.region,
        iam_user=env.get(ENV_IAM_USER) or DEFAULT_IAM_USER,
        iam_password=env.get(ENV_IAM_PASSWORD) or None,
        iam_domain=env.get(ENV_IAM_DOMAIN) or DEFAULT_IAM_DOMAIN,
        token_lifetime=args.token_lifetime,
        lenient_mode=args.lenient_mode,
    )


def _banner(sim: Simulator, url: str, env: dict[str, str], out: TextIO) -> None:
    sk = f"(the one in {ENV_SK})" if env.get(ENV_SK) else sim.secret_key.reveal()
    password = (
        f"(the one in {ENV_IAM_PASSWORD})"
        if env.get(ENV_IAM_PASSWORD)
        else sim.iam_password.reveal()
    )
    rows = [
        ("endpoint", f"{url}  (ECS and IAM APIs)"),
        ("region", sim.region),
        ("project id", sim.project_id),
        ("access key (AK)", sim.access_key),
        ("secret key (SK)", sk),
        ("IAM user / domain", f"{sim.iam_user} / {sim.iam_domain}"),
        ("IAM password", password),
        ("IAM user id", sim.user_id),
        ("key pair", f"{sim.keypair_name} (owned by the IAM user id)"),
        ("servers", str(len(sim.model.servers))),
        ("reinstall takes", f"{sim.model.job_seconds:g} s +- {sim.model.job_jitter:.0%}"),
        ("ground truth", f"{url}/_simulator/state"),
    ]
    faults = str(sim.dispatcher.faults.spec)
    if faults:
        rows.append(("faults", faults))
    if sim.gateway.rate_limit:
        rows.append(("rate limit", f"{sim.gateway.rate_limit:g} requests/s per user"))
    print(f"ECS simulator listening on {url}", file=out)
    for label, value in rows:
        print(f"  {label:<18} {value}", file=out)
    print("To use it from another shell (ecs-notebook, the SDK), paste:", file=out)
    for line in export_lines(sim, url, env):
        print(f"  {line}", file=out)
    print("Press Ctrl+C to stop.", file=out, flush=True)


def export_lines(sim: Simulator, url: str, env: dict[str, str]) -> list[str]:
    """Ready-to-paste ``export`` lines: then ``ecs-notebook servers`` needs no flag."""
    sk = f'"${ENV_SK}"' if env.get(ENV_SK) else shlex.quote(sim.secret_key.reveal())
    region_key = "HUAWEICLOUD_SDK_REGION_ECS_" + sim.region.upper().replace("-", "_")
    values = [
        (ENV_AK, shlex.quote(sim.access_key)),
        (ENV_SK, sk),
        (ENV_PROJECT, shlex.quote(sim.project_id)),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", shlex.quote(url)),
        ("ECS_NOTEBOOK_REGION", shlex.quote(sim.region)),
        (region_key, shlex.quote(url)),
    ]
    return [f"export {name}={value}" for name, value in values]


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad options, 1 if it cannot bind."""
    env = dict(os.environ)
    try:
        sim = _build(args, env)
    except ValueError as error:
        print(f"ecs-notebook simulator: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    try:
        with sim.serve(args.host, args.port) as url:
            _banner(sim, url, env, sys.stdout)
            while not stop.wait(0.2):
                pass
    except OSError as error:
        print(
            f"ecs-notebook simulator: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("ECS simulator stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m ecs_notebook.simulator``)."""
    parser = argparse.ArgumentParser(prog="ecs-notebook simulator", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
