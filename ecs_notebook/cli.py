"""The ``ecs-notebook`` command: reinstall, job, servers and simulator.

Credentials come from the environment or the SDK's credentials file, never from a flag.
Invalid input exits with status 2 and sends nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import IO, Any, Final

from . import __version__
from ._table import format_table
from .client import EcsClient
from .errors import ApiError, ConfigurationError, EcsNotebookError, OutcomeUnknownError
from .model import WITH_STOP_SERVER, ReinstallRequest, UserData, ValidationError, check_server_id
from .model.jobs import Job
from .model.problems import Problem
from .model.servers import Server
from .secrets import Secret

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


class UsageError(Exception):
    """Bad input: reported with exit status 2, nothing sent."""


def _add_target(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "target (credentials come from the environment or ~/.huaweicloud/credentials)"
    )
    group.add_argument("--region", help="region id, e.g. tr-west-1 (default: $ECS_NOTEBOOK_REGION)")
    group.add_argument("--endpoint", help="ECS endpoint URL (https; http only on loopback)")
    group.add_argument(
        "--project-id", help="project id (default: $HUAWEICLOUD_SDK_PROJECT_ID or looked up)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecs-notebook`` command."""
    parser = argparse.ArgumentParser(
        prog="ecs-notebook", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--version", action="version", version=f"ecs-notebook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("reinstall", help="reinstall the OS of servers (wipes their system disks)")
    p.add_argument("server_ids", nargs="+", metavar="SERVER_ID")
    login = p.add_argument_group("login")
    login.add_argument("--keyname", help="key pair name")
    login.add_argument("--userid", help="IAM user id that owns the key pair")
    login.add_argument(
        "--password-stdin", action="store_true", help="read the admin password from stdin"
    )
    p.add_argument("--mode", choices=[WITH_STOP_SERVER], help="stop a running server first")
    p.add_argument("--byol", action="store_true", help="bring your own licence")
    p.add_argument("--user-data", metavar="FILE", help="Cloud-Init user data file (max 32 KB)")
    p.add_argument(
        "--encrypt", action="store_true", help="encrypt the system disk (needs --cmk-id)"
    )
    p.add_argument("--cmk-id", help="KMS key id for system disk encryption")
    p.add_argument("--dry-run", action="store_true", help="print the exact body and send nothing")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_target(p)

    p = sub.add_parser("job", help="show jobs, optionally waiting until they finish")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--wait", action="store_true", help="poll until every job is SUCCESS or FAIL")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between polls (default 5)")
    _add_target(p)

    p = sub.add_parser("servers", help="list servers as a table")
    p.add_argument("--name", help="name filter (fuzzy, as the API does)")
    p.add_argument("--status", help="status filter, e.g. ACTIVE")
    p.add_argument("--tag", dest="tags", help="tag filter, e.g. env=prod")
    p.add_argument("--not-tag", dest="not_tags", help="exclude servers with this tag")
    p.add_argument("--flavor", help="flavor id")
    p.add_argument("--ip", help="private IP (fuzzy)")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    _add_target(p)

    from .simulator.cli import add_arguments as add_simulator_arguments

    p = sub.add_parser("simulator", help="run the built-in ECS simulator on loopback")
    add_simulator_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "simulator":
            from .simulator.cli import run as run_simulator

            return run_simulator(args)
        handler = {"reinstall": _reinstall, "job": _job, "servers": _servers}[args.command]
        return handler(args)
    except (UsageError, ValidationError, ConfigurationError) as exc:
        _print_problems(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _print_problems(exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    else:
        print(f"error: {exc}", file=sys.stderr)
    print("nothing was sent", file=sys.stderr)


def _client(args: argparse.Namespace) -> EcsClient:
    return EcsClient.connect(args.region, endpoint=args.endpoint, project_id=args.project_id)


# -- reinstall ---------------------------------------------------------------------------


def _read_request(args: argparse.Namespace, stdin: IO[str]) -> ReinstallRequest:
    adminpass = None
    if args.password_stdin:
        line = stdin.readline()
        adminpass = Secret(line.rstrip("\r\n"))
        if not adminpass:
            raise UsageError("--password-stdin: stdin held no password")
    user_data = None
    if args.user_data:
        try:
            user_data = UserData.from_file(args.user_data)
        except OSError as exc:
            raise UsageError(f"--user-data: cannot read {args.user_data}: {exc.strerror}") from None
    return ReinstallRequest(
        adminpass=adminpass,
        keyname=args.keyname,
        userid=args.userid,
        mode=args.mode,
        user_data=user_data,
        byol=True if args.byol else None,
        encrypt_system_disk=True if args.encrypt else None,
        cmk_id=args.cmk_id,
    )


def _reinstall(args: argparse.Namespace) -> int:
    request = _read_request(args, sys.stdin)
    problems: list[Problem] = []
    for sid in args.server_ids:
        problems += check_server_id(sid)
    if len(set(args.server_ids)) != len(args.server_ids):
        problems.append(Problem("server_id", "the same server is named twice"))
    checked = request.validate(region=args.region)
    problems += checked
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems)
    for warning in (p for p in problems if p.severity == "warning"):
        print(f"warning: {warning}", file=sys.stderr)
    if args.dry_run:
        for sid in args.server_ids:
            pid = args.project_id or os.environ.get("HUAWEICLOUD_SDK_PROJECT_ID") or "{project_id}"
            print(f"POST /v2/{pid}/cloudservers/{sid}/reinstallos", file=sys.stderr)
        print(json.dumps(request.body(mask_secrets=True)))
        return EXIT_OK
    client = _client(args)
    if not args.yes and not _confirm(len(args.server_ids), password_on_stdin=args.password_stdin):
        print("not confirmed; nothing was sent", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_submit(client, args.server_ids, request))


def _confirm(count: int, *, password_on_stdin: bool) -> bool:
    prompt = (
        f"This reinstalls the OS of {count} server(s) and wipes their system disks.\n"
        f"Type {count} to continue: "
    )
    stream: IO[str] | None = None
    if not password_on_stdin and sys.stdin.isatty():
        stream = sys.stdin
    else:
        try:
            stream = open("/dev/tty")  # noqa: SIM115 - closed below
        except OSError:
            raise UsageError("confirmation needs a terminal: pass --yes to confirm") from None
    print(prompt, end="", file=sys.stderr, flush=True)
    try:
        answer = stream.readline().strip()
    finally:
        if stream is not sys.stdin:
            stream.close()
    return answer == str(count)


async def _submit(client: EcsClient, server_ids: Sequence[str], request: ReinstallRequest) -> int:
    status = EXIT_OK
    async with client:
        for sid in server_ids:
            try:
                job_id = await client.reinstall(sid, request)
            except OutcomeUnknownError as exc:
                print(f"{sid}\tUNKNOWN\t{exc}", file=sys.stderr)
                status = EXIT_FAILED
            except ApiError as exc:
                print(f"{sid}\tERROR\t{exc}", file=sys.stderr)
                status = EXIT_FAILED
            except EcsNotebookError as exc:
                print(f"{sid}\tERROR\t{exc}", file=sys.stderr)
                status = EXIT_FAILED
            else:
                print(f"{sid}\t{job_id}", flush=True)
    return status


# -- job ---------------------------------------------------------------------------------

JOB_COLUMNS: Final = ("JOB_ID", "STATUS", "SERVER_ID", "BEGIN", "END", "ERROR", "REASON")


def _job_row(job: Job) -> list[Any]:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return [
        job.job_id,
        job.status,
        job.server_id,
        job.begin_time.strftime(fmt) if job.begin_time else None,
        job.end_time.strftime(fmt) if job.end_time else None,
        job.error_code,
        "; ".join(job.messages) or None,
    ]


def _job(args: argparse.Namespace) -> int:
    client = _client(args)

    async def run() -> list[Job]:
        async with client:
            if args.wait:
                tasks = [client.wait_for_job(j, interval=args.interval) for j in args.job_ids]
            else:
                tasks = [client.get_job(j) for j in args.job_ids]
            return list(await asyncio.gather(*tasks))

    try:
        jobs = asyncio.run(run())
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(format_table(JOB_COLUMNS, [_job_row(j) for j in jobs]))
    return EXIT_FAILED if any(j.status == "FAIL" for j in jobs) else EXIT_OK


# -- servers -----------------------------------------------------------------------------

SERVER_COLUMNS: Final = (
    "ID",
    "NAME",
    "STATUS",
    "TASK",
    "LOCKED",
    "IMAGE",
    "OS",
    "AZ",
    "IP",
    "TAGS",
)


def _server_row(s: Server) -> list[Any]:
    return [
        s.id,
        s.name,
        s.status,
        s.task_state,
        "yes" if s.locked else "no",
        s.image_name,
        s.os_type,
        s.availability_zone,
        s.private_ip,
        ",".join(s.tags) or None,
    ]


def _servers(args: argparse.Namespace) -> int:
    client = _client(args)
    filters = {
        k: getattr(args, k)
        for k in ("name", "status", "tags", "not_tags", "flavor", "ip")
        if getattr(args, k)
    }

    async def run() -> list[Server]:
        async with client:
            return await client.list_servers(**filters)

    try:
        servers = asyncio.run(run())
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        for s in servers:
            print(json.dumps(dict(s.raw)))
    else:
        print(format_table(SERVER_COLUMNS, [_server_row(s) for s in servers]))
        print(f"{len(servers)} server(s)", file=sys.stderr)
    return EXIT_OK


__all__ = ["build_parser", "main"]
