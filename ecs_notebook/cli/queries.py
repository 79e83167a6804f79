"""``ecs-notebook job`` and ``ecs-notebook servers``: read-only commands.

Both print through :mod:`.output` (``-f``, ``-c``, ``--query``); ``job --wait`` shows
progress on stderr (:mod:`.progress`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Final

from .._text import plural
from ..fleet.progress import RunProgress
from ..model import ValidationError
from ..model.ids import check_job_id
from ..model.jobs import FAIL, Job
from ..model.servers import Server
from .common import EXIT_FAILED, EXIT_OK, add_target, connect, positive_number
from .output import add_output_options, emit, write
from .progress import ProgressReporter

JOB_COLUMNS: Final = (
    "job_id",
    "status",
    "server_id",
    "begin_time",
    "end_time",
    "duration_s",
    "error_code",
    "reason",
)
SERVER_COLUMNS: Final = (
    "id",
    "name",
    "status",
    "task_state",
    "locked",
    "image",
    "os",
    "az",
    "ip",
    "tags",
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
    add_output_options(p)
    add_target(p)
    p.set_defaults(handler=job)

    p = sub.add_parser("servers", help="list servers as a table")
    p.add_argument("--name", help="name filter (fuzzy, as the API does)")
    p.add_argument("--status", help="status filter, e.g. ACTIVE")
    p.add_argument("--tag", dest="tags", help="tag filter, e.g. env=prod")
    p.add_argument("--not-tag", dest="not_tags", help="exclude servers with this tag")
    p.add_argument("--flavor", help="flavor id")
    p.add_argument("--ip", help="private IP (fuzzy)")
    p.add_argument(
        "--json", action="store_true", help="print the API's server objects as JSON lines"
    )
    add_output_options(p)
    add_target(p)
    p.set_defaults(handler=servers)


TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def job_row(job: Job) -> dict[str, Any]:
    """A job as an output row (times ISO-8601 UTC, duration in seconds)."""
    begin, end = job.begin_time, job.end_time
    return {
        "job_id": job.job_id,
        "status": job.status,
        "server_id": job.server_id,
        "begin_time": begin.strftime(TIME_FORMAT) if begin else None,
        "end_time": end.strftime(TIME_FORMAT) if end else None,
        "duration_s": round((end - begin).total_seconds(), 3) if begin and end else None,
        "error_code": job.error_code,
        "reason": "; ".join(job.messages) or None,
    }


def jobs_progress(jobs: list[Job]) -> RunProgress:
    """Counts and finished jobs for the progress bar of ``job --wait``."""
    counts: dict[str, int] = {}
    for j in jobs:
        counts[j.status] = counts.get(j.status, 0) + 1
    finished = sum(1 for j in jobs if j.finished)
    return RunProgress(counts, len(jobs), finished, 0.0, None, None)


def job(args: argparse.Namespace) -> int:
    """``ecs-notebook job``."""
    problems = [p for j in args.job_ids for p in check_job_id(j)]
    if problems:
        raise ValidationError(problems)
    client = connect(args)

    async def fetch() -> list[Job]:
        return list(await asyncio.gather(*(client.get_job(j) for j in args.job_ids)))

    async def run() -> list[Job]:
        async with client:
            jobs = await fetch()
            if not args.wait:
                return jobs
            with ProgressReporter(len(jobs), what="jobs") as reporter:
                reporter.update(jobs_progress(jobs))
                while not all(j.finished for j in jobs):
                    await asyncio.sleep(args.interval)
                    jobs = await fetch()
                    reporter.update(jobs_progress(jobs))
            return jobs

    jobs = asyncio.run(run())
    emit(args, JOB_COLUMNS, [job_row(j) for j in jobs])
    return EXIT_FAILED if any(j.status == FAIL for j in jobs) else EXIT_OK


def server_row(s: Server) -> dict[str, Any]:
    """A server as an output row."""
    return {
        "id": s.id,
        "name": s.name,
        "status": s.status,
        "task_state": s.task_state,
        "locked": bool(s.locked),
        "image": s.image_name,
        "os": s.os_type,
        "az": s.availability_zone,
        "ip": s.private_ip,
        "tags": ",".join(s.tags) or None,
    }


def servers(args: argparse.Namespace) -> int:
    """``ecs-notebook servers``."""
    client = connect(args)
    filters = {k: getattr(args, k) for k in SERVER_FILTERS if getattr(args, k)}

    async def run() -> list[Server]:
        async with client:
            return await client.list_servers(**filters)

    found = asyncio.run(run())
    if args.json:
        write("\n".join(json.dumps(dict(s.raw)) for s in found), sys.stdout)
    else:
        emit(args, SERVER_COLUMNS, [server_row(s) for s in found])
        print(f"{plural(len(found), 'server')}", file=sys.stderr)
    return EXIT_OK
