"""Creates and updates the two virtual environments, reproducibly.

Why two: Rasa Open Source 3.6.21 pins pydantic 1 and SQLAlchemy 1.4, while the handover API
uses pydantic 2 and SQLAlchemy 2.0. They only talk over HTTP, so they never share a process.

Why the odd Rasa recipe: Rasa 3.6 declares Python < 3.11. On 3.11 it installs and trains when
its dependencies come from a frozen lock (requirements/rasa.lock.txt, copied from a verified
freeze) and Rasa itself is installed with --no-deps --ignore-requires-python. Every pip call
uses the lock as a constraint file so no extra package can move a locked version.

An environment is (re)installed only when the requirement files it was built from changed; a
stamp file inside the venv holds their hash.
"""

import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from voordeur_cli.paths import REQUIREMENTS, VENV_API, VENV_RASA

RASA_LOCK = REQUIREMENTS / "rasa.lock.txt"
RASA_EXTRA = REQUIREMENTS / "rasa-extra.txt"
API_REQS = REQUIREMENTS / "api.txt"
RASA_PACKAGES = ["rasa==3.6.21", "rasa-sdk==3.6.2"]
STAMP = ".voordeur-stamp"


def _hash(files: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _pip(venv: Path, *args: str) -> None:
    cmd = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        *args,
    ]
    print("  $", " ".join(cmd[3:]), flush=True)
    subprocess.run(cmd, check=True)


def _create(venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        print(f"Creating {venv.name} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)


def _up_to_date(venv: Path, digest: str) -> bool:
    stamp = venv / STAMP
    return stamp.exists() and stamp.read_text().strip() == digest


def ensure_rasa_env() -> Path:
    """Rasa 3.6.21 + rasa-sdk 3.6.2 + our NLU extras, from the lock file."""
    digest = _hash([RASA_LOCK, RASA_EXTRA], " ".join(RASA_PACKAGES))
    if _up_to_date(VENV_RASA, digest):
        return VENV_RASA
    _create(VENV_RASA)
    print("Installing the Rasa environment from requirements/rasa.lock.txt ...", flush=True)
    _pip(VENV_RASA, "-r", str(RASA_LOCK), "-r", str(RASA_EXTRA), "-c", str(RASA_LOCK))
    _pip(VENV_RASA, "--no-deps", "--ignore-requires-python", *RASA_PACKAGES)
    (VENV_RASA / STAMP).write_text(digest)
    return VENV_RASA


def ensure_api_env() -> Path:
    """FastAPI, pydantic 2, SQLAlchemy 2.0, Alembic and the developer tools (pytest, ruff, mypy)."""
    digest = _hash([API_REQS])
    if _up_to_date(VENV_API, digest):
        return VENV_API
    _create(VENV_API)
    print("Installing the handover API environment from requirements/api.txt ...", flush=True)
    _pip(VENV_API, "-r", str(API_REQS))
    (VENV_API / STAMP).write_text(digest)
    return VENV_API


def ensure_all() -> None:
    """Both environments, installed side by side: on a fresh machine most of pip's time is
    downloading and unpacking, so the two together take about as long as the Rasa one."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(ensure_api_env), pool.submit(ensure_rasa_env)]
        for job in jobs:
            job.result()  # re-raises a failed installation
