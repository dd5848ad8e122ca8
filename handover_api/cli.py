"""Command line of the handover API: ``python -m handover_api.cli <command>``.

Commands:
  migrate        apply database migrations (alembic upgrade head)
  create-user    create a staff user and print a new bearer token (shown once)
  create-token   print a new bearer token for an existing staff user
  purge          delete data older than VOORDEUR_RETENTION_DAYS and print the counts
  seed-demo      demo staff users (peel61, gemeente-helmond) and handovers; idempotent
  serve          run the API with uvicorn on VOORDEUR_API_HOST:VOORDEUR_API_PORT
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from handover_api.core.config import Settings, get_settings
from handover_api.core.db import make_engine, make_session_factory
from handover_api.schemas import HandoverCreate
from handover_api.services import handovers, retention, users

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"

DEMO_USERS = (
    # username, display name, organisation, team, env var with a fixed token
    (
        "demo-peel61",
        "Demo Werk & Inkomen",
        "peel61",
        "werk-inkomen",
        "VOORDEUR_DEMO_TOKEN_PEEL61",
    ),
    (
        "demo-helmond",
        "Demo Wijkteam Helmond",
        "gemeente-helmond",
        "wijkteam",
        "VOORDEUR_DEMO_TOKEN_HELMOND",
    ),
)


def migrate(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = settings.DATABASE_URL
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _session(settings: Settings) -> Session:
    return make_session_factory(make_engine(settings.DATABASE_URL))()


def _demo_payload(organisation: str, index: int) -> HandoverCreate:
    now = datetime.now(UTC)
    regional = organisation == "peel61"
    return HandoverCreate.model_validate(
        {
            "conversation_id": f"demo-{organisation}-{index}",
            "channel": "web",
            "priority": "urgent" if index == 1 and not regional else "normal",
            "municipality": {"code": "GM0794", "name": "Helmond"},
            "destination": {
                "level": "regional" if regional else "local",
                "organisation": organisation,
                "team": "werk-inkomen" if regional else "wijkteam",
                "reason": "Vraag over bijstand: werk en inkomen is regionaal belegd."
                if regional
                else "Meerdere leefgebieden: regie ligt bij het lokale team.",
            },
            "life_domains": [
                {"code": "inkomen", "evidence": ["ik heb geen inkomen meer"]},
                *(
                    []
                    if regional
                    else [{"code": "schulden", "evidence": ["de deurwaarder staat voor de deur"]}]
                ),
            ],
            "multi_problem": not regional,
            "crisis": None,
            "summary": (
                "Inwoner (demo) heeft geen inkomen meer na ontslag en wil bijstand aanvragen."
                if regional
                else "Inwoner (demo) heeft schulden en geen inkomen; wil hulp bij geldzaken."
            ),
            "application": {
                "type": "bijstand",
                "fields": {"woonsituatie": "alleen"},
                "complete": False,
            }
            if regional
            else None,
            "contact": {
                "name": "Demo Inwoner",
                "phone": "06-12345678",
                "email": None,
                "preferred": "phone",
                "best_time": "ochtend",
            },
            "consent": {"given": True, "at": now.isoformat(), "text_version": "demo-1"},
            "transcript": [
                {
                    "event_id": "1",
                    "sender": "user",
                    "text": "Ik ben ontslagen en heb geen geld meer",
                    "at": (now - timedelta(minutes=3)).isoformat(),
                },
                {
                    "event_id": "2",
                    "sender": "bot",
                    "text": "Wat vervelend. In welke gemeente woont u?",
                    "at": (now - timedelta(minutes=2)).isoformat(),
                },
                {
                    "event_id": "3",
                    "sender": "user",
                    "text": "Helmond, bel me op 06-12345678",
                    "at": (now - timedelta(minutes=1)).isoformat(),
                },
            ],
        }
    )


def seed_demo(settings: Settings, *, with_handovers: bool = True) -> list[tuple[str, str, str]]:
    """Create the demo users (if missing) and return (organisation, username, token) rows."""
    rows: list[tuple[str, str, str]] = []
    with _session(settings) as session:
        for username, display_name, organisation, team, env_name in DEMO_USERS:
            user = users.get_user(session, username=username) or users.create_user(
                session,
                username=username,
                organisation=organisation,
                display_name=display_name,
                team=team,
            )
            fixed = getattr(settings, env_name)
            token = users.issue_token(
                session, user=user, token=fixed.get_secret_value() if fixed else None
            )
            rows.append((organisation, username, token))
        session.commit()
        if with_handovers:
            for _username, _name, organisation, _team, _env in DEMO_USERS:
                for index in (1, 2):
                    key = f"demo-{organisation}-{index}"
                    if handovers.get_by_idempotency_key(session, key=key) is None:
                        handovers.create_handover(
                            session,
                            payload=_demo_payload(organisation, index),
                            idempotency_key=key,
                            actor="cli:seed-demo",
                        )
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m handover_api.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    p = sub.add_parser("create-user", help="create a staff user and print a bearer token")
    p.add_argument("--username", required=True)
    p.add_argument("--organisation", required=True, help="organisation id, e.g. peel61")
    p.add_argument("--team", default=None, help="team id, e.g. werk-en-inkomen")
    p.add_argument("--display-name", required=True)
    p = sub.add_parser("create-token", help="print a new bearer token for a staff user")
    p.add_argument("--username", required=True)
    p = sub.add_parser("purge", help="delete expired data (VOORDEUR_RETENTION_DAYS)")
    p.add_argument("--days", type=int, default=None, help="override the retention period")
    p = sub.add_parser("seed-demo", help="demo staff users and handovers (idempotent)")
    p.add_argument("--no-handovers", action="store_true", help="only the users")
    p.add_argument("--force", action="store_true", help="also when VOORDEUR_ENV=production")
    p = sub.add_parser("serve", help="run the API with uvicorn")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--reload", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings or get_settings()
    if args.command == "migrate":
        migrate(settings)
        print("database is up to date")
        return 0
    if args.command == "create-user":
        with _session(settings) as session:
            try:
                user = users.create_user(
                    session,
                    username=args.username,
                    organisation=args.organisation,
                    display_name=args.display_name,
                    team=args.team,
                )
            except users.UserError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            token = users.issue_token(session, user=user)
            session.commit()
        print(f"created user {args.username} ({args.organisation}); bearer token (shown once):")
        print(token)
        return 0
    if args.command == "create-token":
        with _session(settings) as session:
            found = users.get_user(session, username=args.username)
            if found is None:
                print(f"error: no user {args.username!r}", file=sys.stderr)
                return 1
            token = users.issue_token(session, user=found)
            session.commit()
        print(f"new bearer token for {args.username} (shown once):")
        print(token)
        return 0
    if args.command == "purge":
        days = args.days if args.days is not None else settings.VOORDEUR_RETENTION_DAYS
        if days < 1:
            print("error: --days must be at least 1", file=sys.stderr)
            return 1
        with _session(settings) as session:
            result = retention.purge(session, retention_days=days)
        print(f"retention: {days} days")
        print(f"handovers deleted: {result.handovers}")
        print(f"notes deleted: {result.notes}")
        print(f"conversation events deleted: {result.events}")
        print(f"audit rows reduced to ids: {result.audit_rows}")
        return 0
    if args.command == "seed-demo":
        if settings.is_production and not args.force:
            print("error: refusing to seed demo data in production (use --force)", file=sys.stderr)
            return 1
        rows = seed_demo(settings, with_handovers=not args.no_handovers)
        print("demo staff users (organisation, username, bearer token):")
        for organisation, username, token in rows:
            print(f"{organisation}\t{username}\t{token}")
        return 0
    if args.command == "serve":
        import uvicorn

        from handover_api.core.logging import configure_logging

        configure_logging(settings.VOORDEUR_LOG_LEVEL)
        uvicorn.run(
            "handover_api.main:app",
            host=args.host or settings.VOORDEUR_API_HOST,
            port=args.port or settings.VOORDEUR_API_PORT,
            reload=args.reload,
            proxy_headers=True,
        )
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    raise SystemExit(main())
