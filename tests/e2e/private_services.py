"""PostgreSQL, Redis and RabbitMQ servers of their own, on free loopback ports, for the
end-to-end tests that restart them (tests/e2e/test_restarts.py) and the scaled-out stack.

The same Debian binaries as the machine's services, started from a temporary directory: a test
may stop and start them mid-conversation without disturbing anything else that uses the
machine's services (other test runs, benchmarks). Nothing here is used by the product.

PostgreSQL refuses to run as root: as root, its files belong to the `postgres` user and its
commands run through `runuser -u postgres`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from voordeur_cli.preflight import check_postgres, check_rabbitmq, check_redis
from voordeur_cli.stack import free_port

START_SECONDS = 60.0


def wait_until(check: Callable[[], str | None], what: str, seconds: float = START_SECONDS) -> None:
    """Polls `check()` (None when fine, else a problem) until it is fine."""
    deadline = time.monotonic() + seconds
    problem = None
    while time.monotonic() < deadline:
        problem = check()
        if problem is None:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not back within {seconds:.0f} s: {problem}")


class _Server:
    def __enter__(self) -> _Server:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PrivatePostgres(_Server):
    """A PostgreSQL cluster in `base` (trust authentication, no fsync: test data only)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.data = base / "data"
        self.log = base / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not versions:
            raise RuntimeError("PostgreSQL's server binaries are not installed (postgresql)")
        self.bin = versions[-1].parent

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=check, cwd="/")

    def start(self) -> None:
        if not self.data.exists():
            self.base.mkdir(parents=True, exist_ok=True)
            if self._as_postgres:
                user = pwd.getpwnam("postgres")
                os.chown(self.base, user.pw_uid, user.pw_gid)
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        wait_until(lambda: check_postgres("127.0.0.1", self.port), "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: disconnects every client and shuts down cleanly; `immediate`: like a crash."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def create_database(self, name: str) -> None:
        self._run(
            str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-c", f'CREATE DATABASE "{name}"',
        )  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")


class PrivateRedis(_Server):
    """redis-server without persistence on a free port."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.base / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                 "--appendonly", "no", "--dir", str(self.base)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: check_redis("127.0.0.1", self.port), "Redis")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def restart(self) -> None:
        """Stops the server (its data is gone: no persistence) and starts it on the same port."""
        self.close()
        self.start()


class PrivateRabbitMQ(_Server):
    """A RabbitMQ node of its own (name, ports, data, Erlang cookie under `base`); no plugins.

    `stop_app` / `start_app` stop and start the broker inside the running node, as
    `rabbitmqctl stop_app` does for an operator: every client connection is closed and the
    port refuses connections until `start_app`; durable queues keep their persistent messages.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.node = f"voordeur{self.port}@localhost"
        self.proc: subprocess.Popen[bytes] | None = None
        directory = Path("/usr/lib/rabbitmq/bin")
        self.server = str(directory / "rabbitmq-server")
        self.ctl = str(directory / "rabbitmqctl")
        if not (directory / "rabbitmq-server").exists():
            raise RuntimeError("rabbitmq-server is not installed")

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.base / "home"),  # the Erlang cookie of this node and its CLI
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbitmq.pid"),
        }

    def start(self) -> None:
        (self.base / "home").mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text("")
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].\n")
        self._env_cache = self._env()
        with open(self.base / "rabbitmq.out", "ab") as log:
            self.proc = subprocess.Popen(
                [self.server],
                env=self._env_cache,
                cwd=self.base,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(lambda: check_rabbitmq("127.0.0.1", self.port), "RabbitMQ", 120)

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [self.ctl, "-q", "-n", self.node, *args],
            env=self._env_cache,
            capture_output=True,
            check=True,
            timeout=120,
        )

    def stop_app(self) -> None:
        self._ctl("stop_app")

    def start_app(self) -> None:
        self._ctl("start_app")
        wait_until(lambda: check_rabbitmq("127.0.0.1", self.port), "RabbitMQ")

    def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._ctl("shutdown")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
