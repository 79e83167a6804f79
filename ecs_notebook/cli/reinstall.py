"""``ecs-notebook reinstall`` and ``ecs-notebook resume``: the commands that change servers."""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

from .._table import format_table
from .._text import plural
from ..client import EcsClient
from ..errors import ConfigurationError
from ..fleet import (
    FleetRun,
    Plan,
    PollSchedule,
    RunRefusedError,
    ServerFilter,
    Summary,
    check_new_journal,
    new_journal_path,
    replay,
    resume_command,
)
from ..fleet.binding import PasswordRequiredError, check_target
from ..fleet.export import export_records, write_csv
from ..fleet.lifecycle import EXIT_HALTED, EXIT_NOT_ALL, EXIT_OK, EXIT_PAUSED, EXIT_REFUSED
from ..fleet.rollout import Rollout
from ..model import WITH_STOP_SERVER, ReinstallRequest, UserData, ValidationError, check_server_id
from ..model.problems import Problem
from ..secrets import Secret
from .common import (
    EXIT_CODES_HELP,
    UsageError,
    add_target,
    check_writable,
    connect,
    positive_int,
    positive_number,
    read_file_bytes,
    read_stdin_line,
    read_text_file,
)
from .common import check_target as check_target_options
from .output import add_output_options, emit, emit_document
from .progress import ProgressReporter, bar_hidden, follow_book, say
from .rollout_args import add_rollout_arguments, rollout_from_args

T = TypeVar("T")
NO_MODE = "none"  # --mode none: send no mode


@contextmanager
def _refusals() -> Iterator[None]:
    """A run refused before sending (journal in use, damaged, another target ...): exit 2."""
    try:
        yield
    except PasswordRequiredError:
        raise
    except RunRefusedError as exc:
        raise UsageError(str(exc)) from None


LOOKUP_CHUNK = 100  # server ids per listing call, as the API advises
USER_DATA_READ_LIMIT = 1024 * 1024  # read enough to say how far over its 32 KB limit it is


def add_parsers(sub: Any) -> None:
    """Add ``reinstall`` and ``resume``."""
    p = sub.add_parser(
        "reinstall",
        help="reinstall the OS of servers (wipes their system disks)",
        epilog=EXIT_CODES_HELP + "\nCtrl-C pauses: unsent servers stay planned; resume sends them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("server_ids", nargs="*", metavar="SERVER_ID")
    select = p.add_argument_group("fleet selection (combined with AND)")
    select.add_argument("--name-regex", metavar="RE", help="servers whose name matches RE")
    select.add_argument("--tag", action="append", default=[], help="servers with this tag (repeat)")
    select.add_argument("--from-file", metavar="FILE", help="server ids, one per line (or CSV)")
    login = p.add_argument_group("login")
    login.add_argument("--keyname", help="key pair name")
    login.add_argument("--userid", help="IAM user id that owns the key pair")
    login.add_argument(
        "--password-stdin", action="store_true", help="read the admin password from stdin"
    )
    p.add_argument(
        "--mode",
        choices=[WITH_STOP_SERVER, NO_MODE],
        default=WITH_STOP_SERVER,
        help=f"{WITH_STOP_SERVER}: stop a running server first (the default, as the console's "
        f"checkbox); {NO_MODE}: send no mode (the API then refuses running servers)",
    )
    p.add_argument("--byol", action="store_true", help="bring your own licence")
    p.add_argument("--user-data", metavar="FILE", help="Cloud-Init user data file (max 32 KB)")
    p.add_argument(
        "--encrypt", action="store_true", help="encrypt the system disk (needs --cmk-id)"
    )
    p.add_argument("--cmk-id", help="KMS key id for system disk encryption")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing: print the plan (every server, every skip with its reason; read "
        "from the API when credentials are set) and the exact body (table: body on stdout, "
        "plan on stderr; json: one object with both; csv/value: the plan)",
    )
    p.add_argument("--yes", action="store_true", help="confirm servers named on the command line")
    p.add_argument(
        "--expect", type=positive_int, metavar="N", help="confirm: N servers will be reinstalled"
    )
    add_rollout_arguments(p)
    _add_run_options(p)
    add_output_options(p)
    add_target(p)
    p.set_defaults(handler=reinstall)

    p = sub.add_parser(
        "resume",
        help="re-attach a run from its journal and finish it",
        description="Re-attach a run from its journal: track every job, resolve unanswered "
        "POSTs from the servers, and send the servers not sent yet (each only if unchanged "
        "since the plan). The target comes from the journal; --endpoint/--region/"
        "--project-id are accepted only when they match it.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--journal", required=True, metavar="PATH", help="the run's journal")
    p.add_argument(
        "--password-stdin", action="store_true", help="admin password, to submit what is left"
    )
    p.add_argument("--no-submit", action="store_true", help="only track; send nothing new")
    p.add_argument(
        "--proceed",
        action="store_true",
        help="a staged run that halted: go on with a fresh error budget for what is left "
        "(plain resume after a halt only tracks)",
    )
    _add_run_options(p, journal=False)
    add_output_options(p)
    add_target(p)
    p.set_defaults(handler=resume)


def _add_run_options(p: argparse.ArgumentParser, *, journal: bool = True) -> None:
    run = p.add_argument_group("run")
    if journal:
        run.add_argument("--journal", metavar="PATH", help="journal file (default: a new one)")
    run.add_argument(
        "--concurrency", type=positive_int, default=10, help="POSTs in flight (default 10)"
    )
    run.add_argument(
        "--rate-limit", type=positive_number, metavar="R", help="requests/s, the API's limit"
    )
    run.add_argument(
        "--poll-interval",
        type=positive_number,
        default=5.0,
        metavar="S",
        help="first poll after S (5)",
    )
    run.add_argument("--no-wait", action="store_true", help="exit once everything is submitted")
    run.add_argument(
        "--csv", metavar="PATH", help="write the final job table to a CSV file (durations in s)"
    )
    run.add_argument(
        "--held-file",
        metavar="PATH",
        help="if the run halts, write the held server ids here (one per line, for --from-file)",
    )


# -- reading the input -------------------------------------------------------------------


def read_request(args: argparse.Namespace, stdin: IO[str]) -> ReinstallRequest:
    """The request the flags describe (the password, if any, from stdin)."""
    adminpass = _read_password(stdin) if args.password_stdin else None
    user_data = None
    if args.user_data:
        raw = read_file_bytes(args.user_data, "--user-data", USER_DATA_READ_LIMIT)
        user_data = UserData(raw, Path(args.user_data).name)
    return ReinstallRequest(
        adminpass=adminpass,
        keyname=args.keyname,
        userid=args.userid,
        mode=None if args.mode == NO_MODE else args.mode,
        user_data=user_data,
        byol=True if args.byol else None,
        encrypt_system_disk=True if args.encrypt else None,
        cmk_id=args.cmk_id,
    )


def _read_password(stdin: IO[str]) -> Secret:
    secret = Secret(read_stdin_line(stdin, "--password-stdin"))
    if not secret:
        raise UsageError("--password-stdin: stdin held no password")
    return secret


def read_ids_file(path: str) -> list[str]:
    """Server ids from a file: one per line, or the ``id``/first column of a CSV."""
    text = read_text_file(path, "--from-file")
    rows = [r for r in csv.reader(line for line in text.splitlines() if line.strip())]
    if not rows:
        return []
    column = 0
    if "id" in [c.strip().lower() for c in rows[0]]:
        column = [c.strip().lower() for c in rows[0]].index("id")
        rows = rows[1:]
    ids = []
    for number, row in enumerate(rows, start=1):
        if not row or row[0].startswith("#"):
            continue
        if len(row) <= column:
            raise UsageError(f"--from-file: {path}: row {number} has no id column")
        if row[column].strip():
            ids.append(row[column].strip())
    return ids


# -- reinstall ---------------------------------------------------------------------------


def reinstall(args: argparse.Namespace) -> int:
    """``ecs-notebook reinstall``."""
    request = read_request(args, sys.stdin)
    ids = list(args.server_ids) + (read_ids_file(args.from_file) if args.from_file else [])
    selecting = bool(args.name_regex or args.tag)
    if not ids and not selecting:
        raise UsageError("name servers, or select them with --name-regex, --tag or --from-file")
    problems: list[Problem] = []
    for sid in ids:
        problems += check_server_id(sid)
    problems += request.validate(region=args.region)
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems)
    for warning in (p for p in problems if p.severity == "warning"):
        print(f"warning: {warning}", file=sys.stderr)
    try:
        criteria = ServerFilter(name_regex=args.name_regex, tags=tuple(args.tag))
    except ValueError as exc:
        raise UsageError(f"--name-regex: {exc}") from None
    if args.csv:
        check_writable(args.csv, "--csv")
    if args.held_file:
        check_writable(args.held_file, "--held-file")
    if args.dry_run:
        check_target_options(args)  # what a real run would refuse, a dry run refuses too
        return _dry_run(args, request, ids, criteria if selecting else None)
    rollout = rollout_from_args(args)
    if rollout.pause_between_waves and not _has_terminal():
        raise UsageError("--pause-between-waves asks on the terminal, and there is none")
    explicit = bool(args.server_ids) and not selecting and not args.from_file
    if args.yes and not explicit and args.expect is None:
        raise UsageError("servers were selected, not named: confirm with --expect N")
    path = Path(args.journal) if args.journal else new_journal_path()
    with _refusals():
        check_new_journal(path)
    client = connect(args, args.rate_limit)
    run = _new_run(args, client, path)
    try:
        with _refusals():
            run.acquire()  # a second owner is refused before planning; nothing is sent
            return _plan_and_run(
                args, run, request, ids, criteria if selecting else None, explicit, rollout
            )
    finally:
        run.close()


def _plan_and_run(
    args: argparse.Namespace,
    run: FleetRun,
    request: ReinstallRequest,
    ids: Sequence[str],
    criteria: ServerFilter | None,
    explicit: bool,
    rollout: Rollout,
) -> int:
    plan = _plan(run, request, ids, criteria)
    _show_plan(plan)
    if plan.count == 0:
        print("nothing to reinstall", file=sys.stderr)
        return EXIT_NOT_ALL
    print(f"staging: {rollout.describe(plan.count)}", file=sys.stderr)
    print(f"error budget: {rollout.describe_budget(plan.count)}", file=sys.stderr)
    expected = _confirmation(args, plan, explicit)
    if expected is None:
        print("not confirmed; nothing was sent", file=sys.stderr)
        return EXIT_REFUSED
    run.start(plan.confirm(expected), request, rollout=rollout)
    print(f"journal: {run.journal_path}", file=sys.stderr)
    return _follow(run, args)


def _plan(
    run: FleetRun, request: ReinstallRequest, ids: Sequence[str], criteria: ServerFilter | None
) -> Plan:
    """Select and pre-flight the servers (named ids, a filter, or both); nothing is sent."""
    return run.plan(
        request,
        servers=run.servers_by_id(ids) if ids else None,
        criteria=criteria,
        server_ids=ids if ids and criteria is None else None,
    )


PLAN_COLUMNS = ("server_id", "name", "action", "reason", "path")


def _dry_run(
    args: argparse.Namespace,
    request: ReinstallRequest,
    ids: Sequence[str],
    criteria: ServerFilter | None,
) -> int:
    """The plan (read-only calls) and the masked body; nothing is sent."""
    body = request.body(mask_secrets=True)
    plan: Plan | None = None
    try:
        client = connect(args, args.rate_limit)
    except ConfigurationError as exc:
        if criteria is not None or args.from_file:
            raise
        print(f"note: servers not checked ({exc})", file=sys.stderr)
    else:
        # Planning writes no journal (a journal file is opened on the first write only).
        unused = Path(tempfile.gettempdir()) / f"ecs-notebook-dry-run-{os.getpid()}.jsonl"
        run = FleetRun(client, unused, schedule=_schedule(args))
        try:
            plan = _plan(run, request, ids, criteria)
        finally:
            run.close()
    pid = args.project_id or os.environ.get("HUAWEICLOUD_SDK_PROJECT_ID") or "{project_id}"

    def path(sid: object) -> str:
        return f"/v2/{pid}/cloudservers/{sid}/reinstallos"

    rows: list[dict[str, Any]]
    if plan is None:
        rows = [
            {"server_id": sid, "name": None, "action": "reinstall", "reason": None} for sid in ids
        ]
    else:
        rows = [
            {"server_id": s.id, "name": s.name, "action": "reinstall", "reason": None}
            for s in plan.targets
        ] + [
            {"server_id": k.server_id, "name": k.name or None, "action": "skip", "reason": k.reason}
            for k in plan.skipped
        ]
    for row in rows:
        row["path"] = path(row["server_id"]) if row["action"] == "reinstall" else None
    todo = sum(1 for r in rows if r["action"] == "reinstall")
    skipped = len(rows) - todo
    print(
        f"dry run: {plural(todo, 'server')} would be reinstalled, {skipped:,} skipped; "
        "nothing was sent",
        file=sys.stderr,
    )
    if args.format == "json":
        emit_document(args, {"method": "POST", "body": body, "servers": rows})
    elif args.format == "table":
        for row in rows:
            if row["action"] == "reinstall":
                print(f"POST {row['path']}", file=sys.stderr)
        if skipped:
            skips = [
                [r["server_id"], r["name"], r["reason"]] for r in rows if r["action"] == "skip"
            ]
            print(format_table(("SERVER_ID", "NAME", "SKIPPED BECAUSE"), skips), file=sys.stderr)
        print(json.dumps(body))
    else:
        print(json.dumps(body), file=sys.stderr)
        emit(args, PLAN_COLUMNS, rows)
    return EXIT_OK if todo else EXIT_NOT_ALL


def _new_run(args: argparse.Namespace, client: EcsClient, path: Path) -> FleetRun:
    return FleetRun(
        client,
        path,
        concurrency=args.concurrency,
        schedule=_schedule(args),
        on_notice=_notice,
        health_interval=_schedule(args).first,
    )


def _has_terminal() -> bool:
    try:
        with open("/dev/tty"):
            return True
    except OSError:
        return False


def _notice(text: str) -> None:
    say(f"notice: {text}")


def _schedule(args: argparse.Namespace) -> PollSchedule:
    s = max(0.05, args.poll_interval)
    return PollSchedule(first=s, near_interval=0.8 * s, learning_cap=2 * s, max_interval=6 * s)


def _show_plan(plan: Plan) -> None:
    print(f"{plural(plan.count, 'server')} will be reinstalled", file=sys.stderr)
    if plan.skipped:
        print(f"{plural(len(plan.skipped), 'server')} skipped:", file=sys.stderr)
        rows = [[s.server_id, s.name or None, s.reason] for s in plan.skipped]
        print(format_table(("SERVER_ID", "NAME", "REASON"), rows), file=sys.stderr)


def _confirmation(args: argparse.Namespace, plan: Plan, explicit: bool) -> int | None:
    if args.expect is not None:
        return int(args.expect)
    if args.yes and explicit:
        return plan.count
    prompt = (
        f"This reinstalls the OS of {plural(plan.count, 'server')} and wipes "
        f"{'its system disk' if plan.count == 1 else 'their system disks'}.\n"
        f"Type {plan.count} to continue: "
    )
    stream: IO[str]
    if not args.password_stdin and sys.stdin.isatty():
        stream = sys.stdin
    else:
        try:
            stream = open("/dev/tty")  # noqa: SIM115 - closed below
        except OSError:
            raise UsageError("confirmation needs a terminal: pass --expect N (or --yes)") from None
    print(prompt, end="", file=sys.stderr, flush=True)
    try:
        answer = stream.readline().strip()
    finally:
        if stream is not sys.stdin:
            stream.close()
    return int(answer) if answer.isdigit() and int(answer) == plan.count else None


# -- following a run ---------------------------------------------------------------------


def _follow(run: FleetRun, args: argparse.Namespace) -> int:
    answer: Summary | bool | None
    try:
        with ProgressReporter(len(run.book)) as reporter:
            unsubscribe = follow_book(run.book, reporter)
            try:
                if args.no_wait:
                    _until_interrupted(run.wait_submitted)
                    run.stop()
                    answer = run.wait()
                else:
                    answer = _until_interrupted(_approving(run))
            finally:
                unsubscribe()
    except KeyboardInterrupt:
        return _paused(run)
    if not isinstance(answer, Summary):
        return _paused(run)  # the operator said no to the next wave (the bar is gone)
    summary = answer
    if args.no_wait:
        print(
            f"submitted; track with: {resume_command(run.journal.current_path)}",
            file=sys.stderr,
        )
    _print_summary(run, summary, args)
    _print_waves(run, args)
    if args.csv:
        write_csv(run.book.snapshot(), args.csv)
    if run.halted is not None:
        return EXIT_HALTED
    return EXIT_OK if args.no_wait or summary.all_reinstalled else EXIT_NOT_ALL


def _approving(run: FleetRun) -> Callable[[float], Summary | bool | None]:
    """``run.wait`` in slices that also asks before each wave (``--pause-between-waves``):
    ``None`` when the operator says no (``False``: not yet)."""
    asked: set[int] = set()

    def wait(timeout: float) -> Summary | bool | None:
        view = run.rollout_view()
        if run.awaiting_approval and view is not None and view.wave not in asked:
            asked.add(view.wave)
            if not _ask_next_wave(view.wave, view.waves):
                return None
            run.proceed()
        return run.wait(timeout)

    return wait


def _ask_next_wave(done: int, waves: Sequence[Any]) -> bool:
    last = waves[done - 1]
    say(f"wave {done} of {len(waves)}: {last.line()}")
    with bar_hidden(), open("/dev/tty") as tty:
        print(f"start wave {done + 1} of {len(waves)}? [y/N] ", end="", file=sys.stderr, flush=True)
        return tty.readline().strip().lower() in ("y", "yes")


def _print_waves(run: FleetRun, args: argparse.Namespace) -> None:
    """One line per wave (sent, succeeded, unhealthy, failed, held), the halt, the held."""
    view = run.rollout_view()
    if view is None:
        return
    if len(view.waves) > 1 or view.budget is not None:
        for wave in view.waves:
            print(f"wave {wave.number} of {len(view.waves)}: {wave.line()}", file=sys.stderr)
    if view.halt is None:
        return
    print(view.halt.reason, file=sys.stderr)
    held = [sid for sid in view.held if run.book.status_of(sid) == "HELD"]
    if not held:
        return
    if args.held_file:
        Path(args.held_file).write_text("".join(f"{sid}\n" for sid in held), encoding="utf-8")
        print(f"held servers ({len(held)}) written to {args.held_file}", file=sys.stderr)
    else:
        print(
            f"held servers: {len(held)}; write them with --held-file PATH (one id per line, "
            "for a new run with --from-file)",
            file=sys.stderr,
        )
    print(
        f"go on with a fresh budget: {resume_command(run.journal.current_path)} --proceed",
        file=sys.stderr,
    )


def _until_interrupted(wait: Callable[[float], T]) -> T:
    """Wait in short slices (``False`` or a timeout: not yet), so that Ctrl-C is seen at
    once by the main thread."""
    while True:
        try:
            result = wait(0.2)
        except (TimeoutError, concurrent.futures.TimeoutError):
            continue
        if result is not False:
            return result


def _paused(run: FleetRun) -> int:
    """First Ctrl-C: stop sending, let POSTs under way answer, say how to continue; 130.

    A second Ctrl-C exits at once (what was in flight is resolved on resume)."""
    signal.signal(signal.SIGINT, lambda *_: os._exit(EXIT_PAUSED))
    print("\npausing: nothing new is sent; waiting for POSTs under way ...", file=sys.stderr)
    run.suspend()
    summary = run.summary()
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items() if v)
    password = bool(run.plan_info.get("request", {}).get("password_login"))
    print(
        f"paused: {counts}\n"
        f"continue with: {resume_command(run.journal.current_path, password=password)}",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_PAUSED


RESULT_COLUMNS = ("server_id", "server_name", "job_id", "status", "duration_s", "error_code")


def _print_summary(run: FleetRun, summary: Summary, args: argparse.Namespace) -> None:
    """Counts and the not-reinstalled list on stderr; one row per server on stdout."""
    shown = ", ".join(f"{status} {n:,}" for status, n in summary.counts.items())
    print(f"result: {shown}", file=sys.stderr)
    if len(summary.not_reinstalled):
        rows = summary.not_reinstalled.astype(object).where(summary.not_reinstalled.notna(), None)
        print(f"{plural(len(rows), 'server')} not reinstalled:", file=sys.stderr)
        print(
            format_table(("SERVER_ID", "NAME", "STATUS", "ERROR", "REASON"), rows.values.tolist()),
            file=sys.stderr,
        )
    records = export_records(run.book.snapshot())
    reasons = {
        r.server_id: r.reason for r in summary.not_reinstalled.itertuples() if r.reason is not None
    }
    for record in records:
        record["reason"] = reasons.get(record["server_id"])
    emit(args, (*RESULT_COLUMNS, "reason"), records)


def resume(args: argparse.Namespace) -> int:
    """``ecs-notebook resume``."""
    journal = Path(args.journal)
    if not journal.is_file():
        raise UsageError(f"--journal {args.journal}: no such file")
    with _refusals():
        plan = replay(journal).plan
        check_target(plan, endpoint=args.endpoint, region=args.region, project_id=args.project_id)
    # The run's own target, unless given (and then equal, checked above).
    args.endpoint = args.endpoint or plan.get("endpoint")
    recorded_region = plan.get("region")
    args.region = args.region or (recorded_region if recorded_region != "custom" else None)
    args.project_id = args.project_id or plan.get("project_id")
    adminpass = _read_password(sys.stdin) if args.password_stdin else None
    if args.csv:
        check_writable(args.csv, "--csv")
    if args.held_file:
        check_writable(args.held_file, "--held-file")
    client = connect(args, args.rate_limit)
    try:
        with _refusals():
            run = FleetRun.resume(
                client,
                journal,
                adminpass=adminpass,
                submit_remaining=not args.no_submit,
                proceed=args.proceed,
                schedule=_schedule(args),
                health_interval=_schedule(args).first,
                concurrency=args.concurrency,
                on_notice=_notice,
            )
    except PasswordRequiredError as exc:
        raise UsageError(f"{exc} (--password-stdin), or pass --no-submit") from None
    counts = run.book.counts()
    shown = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    print(f"re-attached {len(run.book)} row(s): {shown}", file=sys.stderr)
    try:
        return _follow(run, args)
    finally:
        run.close()
