"""System services the production profile and the tests need: PostgreSQL, Redis, RabbitMQ,
nginx (the load balancer of several Rasa instances), and Chromium for the browser tests of the
staff pages. On this kind of machine they are usually running already; on a fresh Debian
machine we start or install them, because the test command must work there too. Whether they
answer is checked by voordeur_cli/preflight.py."""

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
    if not shutil.which("pg_ctlcluster"):
        _apt_install("postgresql")
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


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print(f"Installing {' '.join(packages)} from Debian's packages ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env)


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> bool:
    """Debian's Chromium at /usr/bin/chromium, for the staff page browser tests.

    Debian's package rather than Playwright's browser download: it comes from the same apt
    mirror as PostgreSQL and gets security updates. False (after saying why) when it cannot be
    had; the browser test then fails under ``VOORDEUR_REQUIRE_BROWSER=1``.
    """
    if CHROMIUM.exists():
        return True
    _apt_install("chromium")
    if CHROMIUM.exists():
        return True
    print(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium).", flush=True)
    return False


def ensure_nginx() -> str | None:
    """Debian's nginx, the load balancer of the production profile's several Rasa instances
    (voordeur_cli/balancer.py); the path of its binary, or None (after saying why).

    Installed from Debian's packages when missing, like Chromium and PostgreSQL. The stack runs
    its own nginx with its own configuration and ports; Debian's nginx service (port 80) is
    neither needed nor touched (where the package starts it, it may be stopped).
    """
    from voordeur_cli.balancer import nginx_binary

    found = nginx_binary()
    if found:
        return found
    _apt_install("nginx")
    found = nginx_binary()
    if found:
        return found
    print("nginx is not installed (apt-get install -y nginx).", flush=True)
    return None


def ensure_redis() -> bool:
    if port_open("127.0.0.1", 6379):
        return True
    if not shutil.which("redis-server"):
        _apt_install("redis-server")
    if shutil.which("redis-server"):
        _run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
        )
    return _wait_port(6379)


def ensure_rabbitmq() -> bool:
    if port_open("127.0.0.1", 5672):
        return True
    if not shutil.which("rabbitmq-server"):
        _apt_install("rabbitmq-server")
    if shutil.which("rabbitmq-server"):
        _run(["rabbitmq-server", "-detached"])
    return _wait_port(5672, seconds=90)


def ensure_database(name: str) -> None:
    """Creates a PostgreSQL database (owner postgres) if it does not exist yet."""
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", f'CREATE DATABASE "{name}"'],
            check=True,
            capture_output=True,
        )


def ensure_production_services() -> bool:
    """PostgreSQL, Redis and RabbitMQ on their default loopback ports."""
    return all([ensure_postgres(), ensure_redis(), ensure_rabbitmq()])
