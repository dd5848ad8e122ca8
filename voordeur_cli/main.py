"""`voordeur <command>`: everyday tasks in one place.

setup      create/update both virtual environments (idempotent)
train      train the Rasa model when training data or config changed
run        set up, train, migrate and run the whole system locally; open the chat
shell      chat in the terminal with a running system (rasa shell)
test       everything CI runs: lint, type checks, unit/API tests (SQLite + PostgreSQL),
           data validation, story tests and end-to-end tests
user       create a staff user and print its token (handover API)
token      list, create or revoke staff tokens (tokens expire; revoking ends sessions)
seed-demo  create demo staff users for the local run
purge      enforce retention: delete expired handovers and transcripts
bench      print benchmark figures (NLU cross-validation, API latency, staff workspace)
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voordeur_cli import envs, system
from voordeur_cli.paths import BOT, MODELS, REPO, TRAINING_DATA, VAR, api_bin, rasa_bin

if TYPE_CHECKING:  # stack is imported lazily: most commands never start the system
    from voordeur_cli.stack import StackConfig

DEV_STAFF_TOKENS = {
    "VOORDEUR_DEMO_TOKEN_PEEL61": "dev-staff-peel61",
    "VOORDEUR_DEMO_TOKEN_HELMOND": "dev-staff-gemeente-helmond",
    "VOORDEUR_DEMO_TOKEN_REVIEWER": "dev-frontoffice-gemeente-helmond",
}


def _rasa_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def latest_model() -> Path | None:
    models = sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _config_domain_data() -> list[str]:
    return [
        *("--config", str(BOT / "config.yml"), "--domain", str(BOT / "domain")),
        *("--data", *[str(p) for p in TRAINING_DATA]),
    ]


def train_command(force: bool = False) -> list[str]:
    """`rasa train` for our config, domain and data (Rasa skips it when nothing changed).

    Without Rasa's own validation step: `validate_command` runs the same checks in a process
    of its own, beside the training (see `train`), and the test command runs it as a step."""
    cmd = [
        str(rasa_bin("rasa")),
        "train",
        *_config_domain_data(),
        *("--out", str(MODELS), "--skip-validation"),
    ]
    if force:
        cmd.append("--force")
    return cmd


def validate_command() -> list[str]:
    """`rasa data validate`: the checks `rasa train` runs first unless told to skip them
    (rasa.cli.utils.validate_files, failing on errors, not on warnings)."""
    return [str(rasa_bin("rasa")), "data", "validate", *_config_domain_data()]


def train_process(log: Path) -> subprocess.Popen[bytes]:
    """Training started in the background, its output in ``log`` (the test command runs the
    steps that need no model meanwhile)."""
    envs.ensure_rasa_env()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(
            train_command(), cwd=REPO, env=_rasa_env(), stdout=out, stderr=subprocess.STDOUT
        )


def train(force: bool = False) -> Path:
    """Trains unless Rasa's own fingerprint says the newest model is current.

    The data are validated in a second process at the same time: on two cores the ~25 s of
    validation no longer delay the model (a newcomer waits for it before the first answer).
    When validation fails, training stops and its report is shown."""
    envs.ensure_rasa_env()
    print("Training (skipped by Rasa when nothing changed) ...", flush=True)
    validation = subprocess.Popen(
        validate_command(),
        cwd=REPO,
        env=_rasa_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    training = subprocess.Popen(train_command(force), cwd=REPO, env=_rasa_env())
    report, _ = validation.communicate()
    if validation.returncode != 0:
        training.terminate()
        training.wait()
        sys.stdout.write(report.decode(errors="replace"))
        raise SystemExit("the training data or domain did not pass validation (see above)")
    if training.wait() != 0:
        raise SystemExit(f"rasa train failed (exit code {training.returncode})")
    model = latest_model()
    if model is None:
        raise SystemExit("training produced no model")
    return model


class BackgroundTraining:
    """`train()` in a thread of its own; `model()` waits for its model (or its failure)."""

    def __init__(self) -> None:
        self._model: Path | None = None
        self._failure: BaseException | None = None
        # A daemon: when the run stops early (a service down), nobody waits for the training.
        self._thread = threading.Thread(target=self._train, name="training", daemon=True)
        self._thread.start()

    def _train(self) -> None:
        try:
            self._model = train()
        except BaseException as exc:  # SystemExit too: re-raised in the waiting thread
            self._failure = exc

    def model(self) -> Path:
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._model is not None
        return self._model


def cmd_setup(_: argparse.Namespace) -> int:
    envs.ensure_all()
    print("Both environments are ready: .venv-rasa and .venv-api")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    print(f"Model: {train(force=args.force)}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def production_config(
    model: Path, environ: Mapping[str, str], **ports: int
) -> "StackConfig | list[str]":
    """The production profile with its secrets taken from `environ`, or the list of problems
    (missing or placeholder secrets, demo staff tokens) that forbid starting it. `ports` may
    also carry `rasa_instances`, `action_servers` and `api_workers`."""
    from voordeur_cli.stack import StackConfig, production_secret_problems

    problems = production_secret_problems(environ)
    if problems:
        return problems
    return StackConfig.production_profile(
        model,
        "voordeur",
        service_token=environ["VOORDEUR_SERVICE_TOKEN"],
        twilio_account_sid=environ["TWILIO_ACCOUNT_SID"],
        twilio_auth_token=environ["TWILIO_AUTH_TOKEN"],
        **ports,
    )


def _mail_text(cfg: "StackConfig") -> str:
    if cfg.mail_port is None or cfg.production:
        return "sent through VOORDEUR_SMTP_HOST (docs/team-notifications.md)"
    return f"{cfg.mail_dir}/new  (kept here, never sent; one file per e-mail)"


def _staff_access_text(cfg: "StackConfig") -> str:
    if cfg.production:
        return (
            f"{cfg.api_url}/docs  — no demo users in production; create one with\n"
            "                           ./voordeur user --username ... --organisation ..."
        )
    peel61 = DEV_STAFF_TOKENS["VOORDEUR_DEMO_TOKEN_PEEL61"]
    helmond = DEV_STAFF_TOKENS["VOORDEUR_DEMO_TOKEN_HELMOND"]
    reviewer = DEV_STAFF_TOKENS["VOORDEUR_DEMO_TOKEN_REVIEWER"]
    return f"""{cfg.api_url}/staff  — log in with a demo token:
                           Senzer (regional, inbox):      {peel61}
                           Helmond wijkteam (inbox):      {helmond}
                           Helmond front office (review): {reviewer}
                           API docs: {cfg.api_url}/docs"""


def _scale(args: argparse.Namespace) -> dict[str, int] | str:
    """Processes per service: the options, else 2 of each on the production profile and 1 on
    the local one; or why the combination cannot run."""
    default = 2 if args.production else 1
    given = {
        "rasa_instances": args.rasa_instances,
        "action_servers": args.action_servers,
        "api_workers": args.api_workers,
    }
    scale = {name: default if value is None else value for name, value in given.items()}
    if min(scale.values()) < 1:
        return "--rasa-instances, --action-servers and --api-workers must be at least 1"
    if scale["rasa_instances"] > 1 and not args.production:
        return (
            "several Rasa instances need --production (they share its PostgreSQL tracker store "
            "and Redis lock store)"
        )
    return scale


def _production_services_answer() -> bool:
    """PostgreSQL, Redis and RabbitMQ on this machine: started (or installed) when missing,
    then checked; says which one does not answer, and why."""
    from voordeur_cli.preflight import check_postgres, check_rabbitmq, check_redis

    system.ensure_production_services()
    problems = [
        problem
        for problem in (
            check_postgres("127.0.0.1", 5432),
            check_redis("127.0.0.1", 6379),
            check_rabbitmq("127.0.0.1", 5672),
        )
        if problem
    ]
    if problems:
        from voordeur_cli.preflight import unavailable_message

        print(f"voordeur: {unavailable_message(problems)}", file=sys.stderr)
    return not problems


def cmd_run(args: argparse.Namespace) -> int:
    from voordeur_cli.preflight import ServicesUnavailableError
    from voordeur_cli.stack import StackConfig, refusal_message, running_stack
    from voordeur_cli.webchat import serve_webchat

    scale = _scale(args)
    if isinstance(scale, str):
        print(f"voordeur: {scale}", file=sys.stderr)
        return 2
    if args.production:
        # Refuse before installing or training anything: the secrets decide whether we start.
        from voordeur_cli.stack import production_secret_problems

        problems = production_secret_problems(os.environ)
        if problems:
            print(f"voordeur: {refusal_message(problems)}", file=sys.stderr)
            return 1
        # The production infrastructure on this machine: PostgreSQL, Redis, RabbitMQ.
        if not _production_services_answer():
            return 1
    envs.ensure_all()
    # Rasa trains while the services that need no model start (running_stack's model_ready).
    training = BackgroundTraining()
    model = MODELS / "(being trained)"
    ports = {
        "api_port": args.api_port,
        "rasa_port": args.rasa_port,
        "actions_port": args.actions_port,
    }
    if args.production:
        system.ensure_database("voordeur")
        system.ensure_database("voordeur_tracker")
        prod = production_config(model, os.environ, **ports, **scale)
        if isinstance(prod, list):
            print(f"voordeur: {refusal_message(prod)}", file=sys.stderr)
            return 1
        cfg = prod
    else:
        # Team e-mails (new and escalated handovers) are kept in var/mail, never sent.
        cfg = StackConfig(model=model, mail_port=args.mail_port, **ports, **scale)  # type: ignore[arg-type]
        cfg.extra_env.update(DEV_STAFF_TOKENS)
    print(
        "Starting the handover API and the action server; Rasa starts when its model is ready ..."
    )
    try:
        # `kill` (SIGTERM) must stop the services too, not only Ctrl+C, also while they start:
        # running_stack then stops what it started.
        signal.signal(signal.SIGTERM, _interrupt)
        with running_stack(cfg, model_ready=training.model):
            return _serve(cfg, args, serve_webchat)
    except KeyboardInterrupt:
        print("Stopped before the system was running.", file=sys.stderr)
        return 130
    except ServicesUnavailableError as exc:
        print(f"voordeur: {exc}", file=sys.stderr)
        return 1


def _topology_text(cfg: "StackConfig") -> str:
    """What runs behind the URLs, when there is more than one process of a kind."""
    lines = []
    if cfg.rasa_instances > 1:
        instances = ", ".join(cfg.rasa_instance_urls)
        lines.append(f"  Rasa instances:        {instances}  (nginx on {cfg.rasa_url})")
    if cfg.action_servers > 1:
        servers = ", ".join(f"127.0.0.1:{port}" for port in cfg.action_ports)
        lines.append(f"  Action servers:        {servers}  (nginx on 127.0.0.1:{cfg.actions_port})")
    if cfg.api_workers > 1:
        lines.append(f"  Handover API workers:  {cfg.api_workers} (uvicorn --workers)")
    return "".join(f"\n{line}" for line in lines)


def _serve(cfg: "StackConfig", args: argparse.Namespace, serve_webchat: Callable[..., Any]) -> int:
    """The running system: demo data, the demo page, what to open; until Ctrl+C or SIGTERM."""
    if not cfg.production:  # never demo users (with well-known tokens) in production
        subprocess.run(
            [str(api_bin()), "-m", "handover_api.cli", "seed-demo"],
            cwd=REPO,
            env=cfg.environment(),
            check=True,
        )
    server = serve_webchat(args.web_port, cfg.rasa_url, cfg.api_url)
    url = f"http://127.0.0.1:{args.web_port}/"
    print(
        f"""
Voordeur is running{" (production profile)" if cfg.production else ""}.
  Chat in the browser:   {url}   (demo municipal page with the chat widget)
  Chat in the terminal:  ./voordeur shell
  Chat over HTTP:        curl -s {cfg.rasa_url}/webhooks/rest/webhook \\
                           -d '{{"sender": "demo", "message": "hallo"}}'
  Staff inbox (API):     {_staff_access_text(cfg)}
  Team e-mails:          {_mail_text(cfg)}{_topology_text(cfg)}
  Logs:                  {cfg.var_dir / "logs"}
Press Ctrl+C to stop.""",
        flush=True,
    )
    if not args.no_browser and os.environ.get("DISPLAY"):
        import webbrowser

        webbrowser.open(url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("Stopping ...")
    finally:
        server.shutdown()
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    """Talks to the running Rasa server, like `rasa shell` but without loading a second model."""
    cmd = [
        str(rasa_bin("python")),
        "-m",
        "voordeur_cli.terminal_chat",
        "--url",
        f"http://127.0.0.1:{args.rasa_port}",
    ]
    return subprocess.run(cmd, cwd=REPO, env=_rasa_env(), check=False).returncode


def _api_cli(*args: str) -> int:
    envs.ensure_api_env()
    VAR.mkdir(exist_ok=True)
    return subprocess.run(
        [str(api_bin()), "-m", "handover_api.cli", *args], cwd=REPO, check=False
    ).returncode


def cmd_user(args: argparse.Namespace) -> int:
    extra = ["--team", args.team] if args.team else []
    extra += ["--role", args.role]
    return _api_cli(
        "create-user",
        "--username",
        args.username,
        "--organisation",
        args.organisation,
        "--display-name",
        args.display_name or args.username,
        *extra,
    )


def cmd_token(args: argparse.Namespace) -> int:
    """Passes everything on to ``python -m handover_api.cli token ...``."""
    return _api_cli("token", *args.token_args)


def cmd_seed_demo(_: argparse.Namespace) -> int:
    os.environ.update(DEV_STAFF_TOKENS)
    return _api_cli("seed-demo")


def cmd_purge(_: argparse.Namespace) -> int:
    return _api_cli("purge")


def cmd_test(args: argparse.Namespace) -> int:
    from voordeur_cli.testing import run_all

    return run_all(quick=args.quick)


def cmd_bench(args: argparse.Namespace) -> int:
    from voordeur_cli.testing import run_bench

    return run_bench(args.what)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voordeur", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="create/update the virtual environments").set_defaults(
        func=cmd_setup
    )
    p = sub.add_parser("train", help="train the Rasa model if needed")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("run", help="run the whole system locally and open the chat")
    p.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", 8000)))
    p.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    p.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    p.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", 8080)))
    p.add_argument(
        "--mail-port",
        type=int,
        default=int(os.environ.get("MAIL_PORT", 8025)),
        help="local SMTP server that keeps team e-mails in var/mail (local profile)",
    )
    p.add_argument("--no-browser", action="store_true")
    p.add_argument(
        "--rasa-instances",
        type=int,
        help="Rasa servers behind nginx on --rasa-port (production profile; default 2 there, "
        "1 on the local profile)",
    )
    p.add_argument(
        "--action-servers",
        type=int,
        help="action servers behind nginx on --actions-port (default 2 with --production, else 1)",
    )
    p.add_argument(
        "--api-workers",
        type=int,
        help="uvicorn workers of the handover API (default 2 with --production, else 1)",
    )
    p.add_argument(
        "--production",
        action="store_true",
        help="PostgreSQL, Redis lock store and RabbitMQ instead of embedded defaults; "
        "secrets from VOORDEUR_SERVICE_TOKEN, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN "
        "(refused when missing or placeholders), no demo users",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("shell", help="chat in the terminal with the running system")
    p.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    p.set_defaults(func=cmd_shell)
    p = sub.add_parser("test", help="run everything CI runs")
    p.add_argument(
        "--quick", action="store_true", help="skip training, story tests and end-to-end tests"
    )
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("user", help="create a staff user and print its bearer token")
    p.add_argument("--username", required=True)
    p.add_argument("--organisation", required=True, help="organisation id from data/regions")
    p.add_argument("--team")
    p.add_argument("--display-name")
    p.add_argument(
        "--role",
        choices=["staff", "reviewer", "auditor"],
        default="staff",
        help="staff works the organisation's handovers; reviewer (front office) reviews the "
        "conversations of the organisation's municipalities; auditor reads only the audit log",
    )
    p.set_defaults(func=cmd_user)
    p = sub.add_parser(
        "token",
        help="list, create or revoke staff tokens (token list|create|revoke ...)",
        description="Passed on to `python -m handover_api.cli token`: "
        "list [--username U] | create --username U [--days N] | "
        "revoke --id N | revoke --username U --all",
    )
    p.add_argument("token_args", nargs=argparse.REMAINDER, metavar="list|create|revoke ...")
    p.set_defaults(func=cmd_token)
    sub.add_parser("seed-demo", help="demo staff users").set_defaults(func=cmd_seed_demo)
    sub.add_parser("purge", help="enforce the retention period").set_defaults(func=cmd_purge)
    p = sub.add_parser("bench", help="print benchmark figures")
    p.add_argument(
        "what",
        nargs="?",
        default="all",
        choices=[
            *("all", "nlu", "api", "staff", "notify", "crisis", "conversations"),
            *("turns", "scale", "memory", "train", "first-answer", "summary"),
        ],
    )
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except subprocess.CalledProcessError as exc:
        print(
            f"voordeur: step failed: {' '.join(map(str, exc.cmd))} (exit {exc.returncode})",
            file=sys.stderr,
        )
        return exc.returncode or 1


__all__ = ["main", "system"]
