"""A newcomer's wait: from `./voordeur run` on a clean clone to the assistant's first answer.

Clones the repository's committed HEAD into a temporary folder (no virtual environments, no
model, no var/), points uv at an empty download cache of its own (as on a fresh machine; pip's
cache is only used to install uv itself), runs `./voordeur run --no-browser` on free ports and
sends "hallo" to the REST channel every few seconds until an answer comes back. Prints and
writes (var/bench/first_answer.json) the time to the first answer and when each phase ended,
read off the run's own output: environments ready, model trained, services up.

    python3 tests/bench/first_answer.py [--timeout 1200] [--keep]

Issue 14's target is a first answer within 5 minutes on this 2-core machine. A benchmark, not
a test: it takes minutes and downloads the environments' packages. Stdlib only (and the
stdlib-only voordeur_cli).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from voordeur_cli.stack import free_port  # noqa: E402  (the CLI is stdlib only too)

DEFAULT_OUT = REPO / "var" / "bench" / "first_answer.json"
TARGET_SECONDS = 300.0
# Lines of `./voordeur run`'s output that end a phase (the first line containing the text).
PHASES = {
    "environments": "Training (skipped by Rasa when nothing changed)",
    "trained": "Your Rasa model is trained and saved",
    "running": "Voordeur is running",
}


def ask(rasa_url: str, sender: str) -> list[dict[str, Any]] | None:
    """The assistant's answer to "hallo", or None while the REST channel does not answer."""
    body = json.dumps({"sender": sender, "message": "hallo"}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return answer if isinstance(answer, list) and answer else None


def watch_output(proc: subprocess.Popen[str], start: float, phases: dict[str, float]) -> None:
    """Copies the run's output to our stdout and notes when each phase's line appears."""
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(f"  | {line}")
        for phase, marker in PHASES.items():
            if marker in line and phase not in phases:
                phases[phase] = round(time.monotonic() - start, 1)


def measure(clone: Path, timeout: float) -> dict[str, Any]:
    """Runs `./voordeur run` in ``clone`` until the first answer (or the timeout)."""
    ports = {name: free_port() for name in ("api", "rasa", "actions", "web", "mail")}
    env = {
        **os.environ,
        "UV_CACHE_DIR": str(clone / ".bench-uv-cache"),  # an empty cache, as on a new machine
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [
        "./voordeur",
        "run",
        "--no-browser",
        *("--api-port", str(ports["api"]), "--rasa-port", str(ports["rasa"])),
        *("--actions-port", str(ports["actions"]), "--web-port", str(ports["web"])),
        *("--mail-port", str(ports["mail"])),
    ]
    rasa_url = f"http://127.0.0.1:{ports['rasa']}"
    phases: dict[str, float] = {}
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    reader = threading.Thread(target=watch_output, args=(proc, start, phases), daemon=True)
    reader.start()
    answer = None
    try:
        while time.monotonic() - start < timeout and proc.poll() is None:
            answer = ask(rasa_url, "first-answer-bench")
            if answer:
                break
            time.sleep(2)
        seconds = round(time.monotonic() - start, 1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return {
        "seconds_to_first_answer": seconds if answer else None,
        "phases_s": phases,
        "first_answer": [m.get("text") for m in answer or []],
        "exit_code_before_answer": None if answer else proc.returncode,
        "target_s": TARGET_SECONDS,
        "target_met": bool(answer) and seconds <= TARGET_SECONDS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true", help="keep the temporary clone")
    args = parser.parse_args()
    clone = Path(tempfile.mkdtemp(prefix="voordeur-first-answer-")) / "voordeur"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    print(f"Clean clone of {commit} in {clone}; `./voordeur run` until the first answer ...")
    try:
        report = {"commit": commit, "cores": os.cpu_count(), **measure(clone, args.timeout)}
    finally:
        if not args.keep:
            shutil.rmtree(clone.parent, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    seconds = report["seconds_to_first_answer"]
    verdict = "met" if report["target_met"] else "missed"
    shown = f"{seconds:.0f} s" if seconds is not None else "no answer"
    print(
        f"First answer after {shown} (target {TARGET_SECONDS:.0f} s: {verdict}); "
        f"phases: {report['phases_s']}; answer: {report['first_answer']}"
    )
    print(f"Written: {args.out}")
    return 0 if seconds is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
