"""System services the production profile and the tests need: PostgreSQL (and later Redis,
RabbitMQ). On this kind of machine they are usually running already; on a fresh Debian machine
we start or install them, because the test command must work there too."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _run(cmd: list[str]) -> bool:
    print("  $", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=False).returncode == 0


def _wait_port(port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return True
        time.sleep(1)
    return False


def ensure_postgres() -> bool:
    """PostgreSQL on 127.0.0.1:5432 with trust auth for local connections.

    Returns False (after saying why) when it cannot be had; callers decide whether that is fatal.
    """
    if port_open("127.0.0.1", 5432):
        return True
    if not shutil.which("pg_ctlcluster") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("PostgreSQL is not installed; installing it from Debian's packages ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=False, env=env)
    if shutil.which("pg_ctlcluster"):
        versions = sorted(p.name for p in Path("/etc/postgresql").glob("*"))
        if versions:
            _trust_local(Path("/etc/postgresql") / versions[-1] / "main" / "pg_hba.conf")
            _run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"])
    if _wait_port(5432):
        return True
    print("PostgreSQL could not be started on 127.0.0.1:5432.", flush=True)
    return False


def _trust_local(hba: Path) -> None:
    """Tests connect as `postgres` without a password over TCP on loopback."""
    if not hba.exists():
        return
    text = hba.read_text()
    line = "host all all 127.0.0.1/32 trust"
    if line not in text:
        hba.write_text(line + "\n" + text)
