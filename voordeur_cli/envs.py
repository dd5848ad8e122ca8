"""Creates and updates the two virtual environments, reproducibly.

Why two: Rasa Open Source 3.6.21 pins pydantic 1 and SQLAlchemy 1.4, while the handover API
uses pydantic 2 and SQLAlchemy 2.0. They only talk over HTTP, so they never share a process.

Why the odd Rasa recipe: Rasa 3.6 declares Python < 3.11. On 3.11 it installs and trains when
its dependencies come from a frozen lock (requirements/rasa.lock.txt, copied from a verified
freeze) and Rasa itself is installed with --no-deps (uv, unlike pip, then does not check
Requires-Python). Every install uses the lock as a constraint file so no extra package can
move a locked version.

Why uv: it installs the same locked versions as pip (the freezes compared equal) but downloads
and unpacks in parallel, which takes a fresh machine from ~3.5 minutes to ~25 seconds for the
Rasa environment, most of a newcomer's wait before the first answer. uv itself comes from
requirements/tools.txt into .venv-tools with the standard pip. The environments are still
made by `python -m venv`, so each keeps its own pip.

An environment is (re)installed only when the requirement files it was built from changed; a
stamp file inside the venv holds their hash.
"""

import hashlib
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from voordeur_cli.paths import REQUIREMENTS, VENV_API, VENV_RASA, VENV_TOOLS

RASA_LOCK = REQUIREMENTS / "rasa.lock.txt"
RASA_EXTRA = REQUIREMENTS / "rasa-extra.txt"
API_REQS = REQUIREMENTS / "api.txt"
TOOLS_REQS = REQUIREMENTS / "tools.txt"
RASA_PACKAGES = ["rasa==3.6.21", "rasa-sdk==3.6.2"]
STAMP = ".voordeur-stamp"


def _hash(files: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _pip(venv: Path, *args: str) -> None:
    """The standard pip of ``venv``; only used to install uv."""
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *args]
    print("  $", " ".join(cmd[3:]), flush=True)
    subprocess.run(cmd, check=True)


def _install(venv: Path, *args: str) -> None:
    """``uv pip install`` into ``venv`` (see the module docstring for why uv)."""
    uv = ensure_uv()
    cmd = [str(uv), "pip", "install", "--python", str(venv / "bin" / "python"), "-q", *args]
    print("  $ uv pip install", " ".join(args), flush=True)
    subprocess.run(cmd, check=True)


def _create(venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        print(f"Creating {venv.name} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)


def _up_to_date(venv: Path, digest: str) -> bool:
    stamp = venv / STAMP
    return stamp.exists() and stamp.read_text().strip() == digest


_uv_lock = threading.Lock()


def ensure_uv() -> Path:
    """uv from requirements/tools.txt in .venv-tools (both environment threads ask for it)."""
    with _uv_lock:
        digest = _hash([TOOLS_REQS])
        if not _up_to_date(VENV_TOOLS, digest):
            _create(VENV_TOOLS)
            _pip(VENV_TOOLS, "-r", str(TOOLS_REQS))
            (VENV_TOOLS / STAMP).write_text(digest)
    return VENV_TOOLS / "bin" / "uv"


def ensure_rasa_env() -> Path:
    """Rasa 3.6.21 + rasa-sdk 3.6.2 + our NLU extras, from the lock file."""
    digest = _hash([RASA_LOCK, RASA_EXTRA], " ".join(RASA_PACKAGES))
    if _up_to_date(VENV_RASA, digest):
        return VENV_RASA
    _create(VENV_RASA)
    print("Installing the Rasa environment from requirements/rasa.lock.txt ...", flush=True)
    _install(VENV_RASA, "-r", str(RASA_LOCK), "-r", str(RASA_EXTRA), "-c", str(RASA_LOCK))
    # uv does not check Requires-Python of a package installed with --no-deps.
    _install(VENV_RASA, "--no-deps", *RASA_PACKAGES)
    (VENV_RASA / STAMP).write_text(digest)
    return VENV_RASA


def ensure_api_env() -> Path:
    """FastAPI, pydantic 2, SQLAlchemy 2.0, Alembic and the developer tools (pytest, ruff, mypy)."""
    digest = _hash([API_REQS])
    if _up_to_date(VENV_API, digest):
        return VENV_API
    _create(VENV_API)
    print("Installing the handover API environment from requirements/api.txt ...", flush=True)
    _install(VENV_API, "-r", str(API_REQS))
    (VENV_API / STAMP).write_text(digest)
    return VENV_API


def ensure_all() -> None:
    """Both environments, installed side by side: most of the time is downloading and
    unpacking, so the two together take about as long as the Rasa one."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(ensure_api_env), pool.submit(ensure_rasa_env)]
        for job in jobs:
            job.result()  # re-raises a failed installation
