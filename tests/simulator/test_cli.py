"""``ecs-notebook simulator`` as a process: banner, credentials, clean stop on signals."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from ecs_notebook.simulator import cli

from .conftest import SignedAuth

ENV_SK = "envSecretKeyValue0123456789abcdefghijklm"


@contextmanager
def simulator_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_SDK_", "ECS_SIM_"))
    }
    full_env.update(env or {})
    with subprocess.Popen(
        [sys.executable, "-m", "ecs_notebook.simulator", "--port", "0", "--servers", "5", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    ) as process:
        lines = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("Press Ctrl+C"):
                    break
            yield process, "".join(lines)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def field(banner: str, label: str) -> str:
    found = re.search(rf"^\s+{re.escape(label)}\s+(\S+)", banner, re.MULTILINE)
    assert found, banner
    return found.group(1)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_env_credentials_and_clean_stop(stop: signal.Signals) -> None:
    env = {
        "HUAWEICLOUD_SDK_AK": "ENVACCESSKEY00000000",
        "HUAWEICLOUD_SDK_SK": ENV_SK,
        "HUAWEICLOUD_SDK_PROJECT_ID": "ab" * 16,
    }
    with simulator_process(env=env) as (process, banner):
        assert ENV_SK not in banner
        assert "(the one in HUAWEICLOUD_SDK_SK)" in banner
        assert field(banner, "access key (AK)") == "ENVACCESSKEY00000000"
        url = field(banner, "endpoint")
        auth = SignedAuth("ENVACCESSKEY00000000", ENV_SK)
        response = httpx.get(f"{url}/v1/{'ab' * 16}/cloudservers/detail", auth=auth)
        assert response.status_code == 200 and response.json()["count"] == 5
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None and "stopped" in process.stdout.read()


def test_made_up_credentials_are_printed() -> None:
    with simulator_process("--faults", "500=0.1", "--rate-limit", "5") as (process, banner):
        sk = field(banner, "secret key (SK)")
        assert len(sk) == 40
        for label in ("project id", "IAM user id", "IAM password", "ground truth", "key pair"):
            field(banner, label)
        assert "500=0.1" in banner and "5 requests/s" in banner
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_bad_options_exit_2(tmp_path: object) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "ecs_notebook.simulator", "--faults", "boom=1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert bad.returncode == 2 and "unknown fault kind" in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "ecs_notebook.simulator", "--fleet", "/nonexistent/fleet.json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_add_arguments_defaults() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.servers, args.job_seconds) == ("127.0.0.1", 8765, 20, 270.0)
    assert args.lenient_mode is None
    assert args.faults is None and args.rate_limit is None and args.fleet is None
    args = parser.parse_args(["--faults", "429=0.5", "--latency-ms", "30", "--seed", "4"])
    assert str(args.faults) == "429=0.5" and args.latency_ms == 30 and args.seed == 4
