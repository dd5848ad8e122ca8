"""The handover API as the benchmarks start it: migrate, uvicorn on a free loopback port, wait
for /healthz; stopped (the whole process group) when the block ends.

    with start_api(api_env(url)) as api:
        httpx.get(f"{api.base}/healthz")

Used by api_latency.py, staff_workspace.py and team_notifications.py (run with .venv-api).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from voordeur_cli.stack import free_port  # noqa: E402

SERVICE_TOKEN = "bench-service-token-0123456789"


@dataclass(frozen=True)
class ApiServer:
    base: str
    pid: int  # also the process group id (uvicorn and its workers)
    workers: int


def api_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's API: test mode, the bench service token, quiet logs."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VOORDEUR_ENV": "test",
        "VOORDEUR_SERVICE_TOKEN": SERVICE_TOKEN,
        "VOORDEUR_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        **extra,
    }


def migrate(env: dict[str, str]) -> None:
    """Brings DATABASE_URL of `env` to the newest Alembic revision."""
    subprocess.run(
        [sys.executable, "-m", "handover_api.cli", "migrate"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the handover API stopped during start-up (exit {proc.returncode})")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the handover API did not answer on {base}/healthz within {timeout:.0f} s")


@contextlib.contextmanager
def start_api(
    env: dict[str, str], *, workers: int = 1, run_migrations: bool = True, timeout: float = 30
) -> Iterator[ApiServer]:
    """Runs `uvicorn handover_api.main:app` (`workers` processes) until the block ends."""
    if run_migrations:
        migrate(env)
    port = free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "handover_api.main:app"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--no-access-log", "--log-level", "warning"),
    ]
    if workers > 1:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc, timeout)
        yield ApiServer(base=base, pid=proc.pid, workers=workers)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
