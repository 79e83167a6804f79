"""``ecs-notebook job`` and ``ecs-notebook servers``: read-only commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Final

from .._table import format_table
from ..model import ValidationError
from ..model.ids import check_job_id
from ..model.jobs import FAIL, Job
from ..model.servers import Server
from .common import EXIT_FAILED, EXIT_OK, add_target, connect, positive_number

JOB_COLUMNS: Final = ("JOB_ID", "STATUS", "SERVER_ID", "BEGIN", "END", "ERROR", "REASON")
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
SERVER_FILTERS: Final = ("name", "status", "tags", "not_tags", "flavor", "ip")


def add_parsers(sub: Any) -> None:
    """Add ``job`` and ``servers``."""
    p = sub.add_parser("job", help="show jobs, optionally waiting until they finish")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--wait", action="store_true", help="poll until every job is SUCCESS or FAIL")
    p.add_argument(
        "--interval", type=positive_number, default=5.0, help="seconds between polls (default 5)"
    )
    add_target(p)
    p.set_defaults(handler=job)

    p = sub.add_parser("servers", help="list servers as a table")
    p.add_argument("--name", help="name filter (fuzzy, as the API does)")
    p.add_argument("--status", help="status filter, e.g. ACTIVE")
    p.add_argument("--tag", dest="tags", help="tag filter, e.g. env=prod")
    p.add_argument("--not-tag", dest="not_tags", help="exclude servers with this tag")
    p.add_argument("--flavor", help="flavor id")
    p.add_argument("--ip", help="private IP (fuzzy)")
    p.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    add_target(p)
    p.set_defaults(handler=servers)


def job_row(job: Job) -> list[Any]:
    """A job as a table row."""
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


def job(args: argparse.Namespace) -> int:
    """``ecs-notebook job``."""
    problems = [p for j in args.job_ids for p in check_job_id(j)]
    if problems:
        raise ValidationError(problems)
    client = connect(args)

    async def run() -> list[Job]:
        async with client:
            if args.wait:
                tasks = [client.wait_for_job(j, interval=args.interval) for j in args.job_ids]
            else:
                tasks = [client.get_job(j) for j in args.job_ids]
            return list(await asyncio.gather(*tasks))

    jobs = asyncio.run(run())
    print(format_table(JOB_COLUMNS, [job_row(j) for j in jobs]))
    return EXIT_FAILED if any(j.status == FAIL for j in jobs) else EXIT_OK


def server_row(s: Server) -> list[Any]:
    """A server as a table row."""
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


def servers(args: argparse.Namespace) -> int:
    """``ecs-notebook servers``."""
    client = connect(args)
    filters = {k: getattr(args, k) for k in SERVER_FILTERS if getattr(args, k)}

    async def run() -> list[Server]:
        async with client:
            return await client.list_servers(**filters)

    found = asyncio.run(run())
    if args.json:
        for s in found:
            print(json.dumps(dict(s.raw)))
    else:
        print(format_table(SERVER_COLUMNS, [server_row(s) for s in found]))
        print(f"{len(found)} server(s)", file=sys.stderr)
    return EXIT_OK
