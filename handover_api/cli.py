"""Command line of the handover API: ``python -m handover_api.cli <command>``.

Commands:
  migrate        apply database migrations (alembic upgrade head)
  create-user    create a staff user (--role staff|auditor) and print a new bearer token
  create-token   print a new bearer token for an existing staff user (same as token create)
  token          list, create or revoke personal tokens (tokens end after VOORDEUR_TOKEN_DAYS)
  purge          delete data older than VOORDEUR_RETENTION_DAYS and print the counts
  seed-demo      demo staff users (peel61, gemeente-helmond), a front-office reviewer of
                 Helmond, two varied handovers per organisation, two conversations to review
                 (an application and a question, claimed and new, urgent, past and within
                 the service level, call attempts); idempotent; a revoked demo token stays
                 revoked (nothing is minted for that user)
  serve          run the API with uvicorn on VOORDEUR_API_HOST:VOORDEUR_API_PORT
  export-due     deliver the due handover exports (Klantinteracties; run by a timer every
                 minute); --retry-failed first puts failed exports back in the queue
  worker         the background work, every VOORDEUR_WORKER_INTERVAL_SECONDS: announce new
                 handovers to their teams, escalate the ones not claimed in time, deliver
                 exports; --once does one round and prints the counts (for a timer);
                 --retry-failed first requeues failed notifications and exports
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from actions.handover_request import HandoverRequest, LifeDomain, request_problems
from common.references import reference_from
from handover_api.core.config import Settings, describe_errors, get_settings
from handover_api.core.db import make_engine, make_session_factory
from handover_api.models import (
    ROLES,
    ApiToken,
    CallAttempt,
    Conversation,
    ConversationEvent,
    Handover,
    StaffUser,
    utcnow,
)
from handover_api.schemas import HandoverCreate
from handover_api.services import handovers, notifications, retention, users
from handover_api.services.conversation_log import LOW_CONFIDENCE
from handover_api.services.directory import Directory
from handover_api.services.directory import current as current_directory

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"

DEMO_USERS = (
    # username, display name, organisation, team, env var with a fixed token, role
    (
        "demo-peel61",
        "Demo Werk & Inkomen",
        "peel61",
        "werk-inkomen",
        "VOORDEUR_DEMO_TOKEN_PEEL61",
        "staff",
    ),
    (
        "demo-helmond",
        "Demo Wijkteam Helmond",
        "gemeente-helmond",
        "wijkteam",
        "VOORDEUR_DEMO_TOKEN_HELMOND",
        "staff",
    ),
    (
        "demo-frontoffice-helmond",
        "Demo Frontoffice Helmond",
        "gemeente-helmond",
        None,
        "VOORDEUR_DEMO_TOKEN_REVIEWER",
        "reviewer",
    ),
)
# Two demo conversations of Helmond for the front office's review page: one the assistant
# understood, one where it fell back. (sender, text, intent, confidence, fallback)
DEMO_CONVERSATIONS: dict[str, tuple[tuple[str, str, str | None, float | None, bool], ...]] = {
    "c-demo-begrepen": (
        ("bot", "Hallo! Ik ben de digitale assistent van de gemeente.", None, None, False),
        (
            "user",
            "kan ik bijzondere bijstand krijgen voor een nieuwe wasmachine",
            "ask_bijzondere_bijstand",
            0.93,
            False,
        ),
        (
            "bot",
            "Bijzondere bijstand is voor noodzakelijke kosten die u zelf niet kunt betalen.",
            None,
            None,
            False,
        ),
        ("user", "Helmond", "inform", 0.88, False),
    ),
    "c-demo-niet-begrepen": (
        ("bot", "Hallo! Ik ben de digitale assistent van de gemeente.", None, None, False),
        ("user", "mn uitkering is gestopt en de huur moet eind vd maand", "greet", 0.31, True),
        ("bot", "Sorry, dat begreep ik niet. Kunt u het anders zeggen?", None, None, False),
        ("user", "ik heb geen geld meer voor de huur", "ask_bijstand", 0.64, False),
    ),
}


def migrate(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = settings.DATABASE_URL
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _session(settings: Settings) -> Session:
    return make_session_factory(make_engine(settings.DATABASE_URL))()


@dataclass(frozen=True, slots=True)
class DemoCase:
    """One demo case: what the resident told, and where it stands in the inbox."""

    summary: str
    domains: tuple[tuple[str, str], ...]  # (life domain, the resident's words)
    user_texts: tuple[str, ...]
    application: dict[str, Any] | None = None
    crisis: str | None = None
    days_ago: int = 0  # when it arrived (the inbox shows its waiting time against the term)
    status: str = "new"
    call: tuple[str, int | None, str] | None = None  # outcome, call back in N days, note
    name: str = "Demo Inwoner"
    phone: str = "06-12345678"


# Two cases per organisation, as different as an inbox is: an application and a question,
# claimed and new, urgent and normal, within and past the service level.
DEMO_CASES: dict[str, tuple[DemoCase, DemoCase]] = {
    "peel61": (
        DemoCase(
            summary=(
                "Vraag: een bijstandsuitkering.\nGemeente: Helmond. Kanaal: web.\n"
                "Leefgebieden genoemd: inkomen.\n"
                "In eigen woorden: \u201cIk ben ontslagen en heb geen geld meer\u201d\n"
                "Telefoonnummer gegeven: ja."
            ),
            domains=(("inkomen", "ik heb geen inkomen meer"),),
            user_texts=("Ik ben ontslagen en heb geen geld meer", "Ja"),
            application={
                "type": "bijstand",
                "fields": {
                    "naam": "Demo Inwoner",
                    "huishouden": {
                        "partner": False,
                        "kinderen": 0,
                        "leeftijden_kinderen": [],
                        "andere_volwassenen": 0,
                    },
                    "inkomen": ["geen"],
                    "contactvoorkeur": "phone",
                    "gemeente": "Helmond",
                    "gemeentecode": "GM0794",
                    "telefoonnummer": "0612345678",
                },
                "complete": False,
            },
            days_ago=6,
            status="claimed",
            call=("niet_bereikt", None, "Voicemail ingesproken."),
        ),
        DemoCase(
            summary=(
                "Vraag: wil graag contact met een medewerker.\nGemeente: Deurne. Kanaal: web.\n"
                "Leefgebieden genoemd: werk opleiding, inkomen.\n"
                "In eigen woorden: \u201cMijn opdrachten als zzp'er zijn gestopt en ik weet "
                "niet hoe ik de huur moet betalen\u201d\nTelefoonnummer gegeven: ja."
            ),
            domains=(
                ("werk_opleiding", "mijn opdrachten als zzp'er zijn gestopt"),
                ("inkomen", "ik weet niet hoe ik de huur moet betalen"),
            ),
            user_texts=(
                "Mijn opdrachten als zzp'er zijn gestopt en ik weet niet hoe ik de huur moet "
                "betalen",
                "Ja",
            ),
            name="Demo Zelfstandige",
            phone="+31 6 23456789",
        ),
    ),
    "gemeente-helmond": (
        DemoCase(
            summary=(
                "Vraag: wil graag contact met een medewerker.\nGemeente: Helmond. Kanaal: web.\n"
                "Leefgebieden genoemd: huisvesting, schulden.\n"
                "In eigen woorden: \u201cIk moet morgen mijn huis uit en weet niet waar ik "
                "kan slapen\u201d / \u201cde deurwaarder staat voor de deur\u201d\n"
                "Telefoonnummer gegeven: ja."
            ),
            domains=(
                ("huisvesting", "ik moet morgen mijn huis uit"),
                ("schulden", "de deurwaarder staat voor de deur"),
            ),
            user_texts=(
                "Ik moet morgen mijn huis uit en weet niet waar ik kan slapen",
                "de deurwaarder staat voor de deur",
            ),
            crisis="acute_dakloosheid",
            days_ago=1,
            name="Demo Bewoner",
            phone="06-34567890",
        ),
        DemoCase(
            summary=(
                "Vraag: hulp bij het huishouden (Wmo).\nGemeente: Helmond. Kanaal: web.\n"
                "Leefgebieden genoemd: adl, lichamelijke gezondheid.\n"
                "In eigen woorden: \u201cMijn moeder komt de trap niet meer op en het "
                "huishouden lukt niet meer\u201d\nTelefoonnummer gegeven: ja."
            ),
            domains=(
                ("adl", "het huishouden lukt niet meer"),
                ("lichamelijke_gezondheid", "mijn moeder komt de trap niet meer op"),
            ),
            user_texts=(
                "Mijn moeder komt de trap niet meer op en het huishouden lukt niet meer",
                "Ja",
            ),
            application={
                "type": "wmo",
                "fields": {
                    "hulp_voor": "ander",
                    "hulpvraag": "Mijn moeder komt de trap niet meer op en het huishouden "
                    "lukt niet meer.",
                    "gemeente": "Helmond",
                    "gemeentecode": "GM0794",
                    "telefoonnummer": "0645678901",
                },
                "complete": False,
            },
            days_ago=3,
            status="claimed",
            call=("terugbellen", 1, "Dochter belt terug na overleg met haar moeder."),
            name="Demo Mantelzorger",
            phone="06-45678901",
        ),
    ),
}
DEMO_MUNICIPALITIES = {"Helmond": "GM0794", "Deurne": "GM0762"}


def _demo_case(organisation: str, index: int) -> DemoCase:
    return DEMO_CASES[organisation][index - 1]


def _demo_payload(organisation: str, index: int) -> HandoverCreate:
    """A demo handover as the assistant would send it: the one request type of the action
    side (actions/handover_request.py), checked against the contract like the assistant's."""
    now = datetime.now(UTC)
    regional = organisation == "peel61"
    demo = _demo_case(organisation, index)
    municipality = "Deurne" if "Gemeente: Deurne" in demo.summary else "Helmond"
    domains: list[LifeDomain] = [{"code": code, "evidence": [said]} for code, said in demo.domains]
    transcript: list[dict[str, Any]] = []
    moment = now - timedelta(minutes=2 * len(demo.user_texts) + 2)
    for number, said in enumerate(demo.user_texts):
        if number:
            transcript.append(
                {
                    "event_id": f"bot-{number}",
                    "sender": "bot",
                    "text": "Mag ik dit met een medewerker delen, zodat die u kan bellen?\n"
                    "[Ja] [Nee]",
                    "at": moment.isoformat(),
                }
            )
            moment += timedelta(minutes=1)
        transcript.append(
            {"event_id": f"user-{number}", "sender": "user", "text": said, "at": moment.isoformat()}
        )
        moment += timedelta(minutes=1)
    request: HandoverRequest = {
        "reference": reference_from(f"demo-{organisation}-{index}"),
        "conversation_id": f"demo-{organisation}-{index}",
        "channel": "web",
        "priority": "urgent" if demo.crisis else "normal",
        "municipality": {"code": DEMO_MUNICIPALITIES[municipality], "name": municipality},
        "destination": {
            "level": "regional" if regional else "local",
            "organisation": organisation,
            "team": "werk-inkomen" if regional else "wijkteam",
            "reason": "Vraag over werk en inkomen: dat is regionaal belegd."
            if regional
            else "Meerdere leefgebieden: regie ligt bij het lokale team.",
        },
        "life_domains": domains,
        "multi_problem": len(domains) > 1,
        "crisis": {"type": demo.crisis} if demo.crisis else None,
        "summary": demo.summary,
        "application": demo.application,  # type: ignore[typeddict-item]
        "contact": {
            "name": demo.name,
            "phone": demo.phone,
            "email": None,
            "preferred": "phone",
            "best_time": "ochtend",
        },
        "consent": {"given": True, "at": now.isoformat(), "text_version": "demo-1"},
        "transcript": transcript,  # type: ignore[typeddict-item]
    }
    problems = request_problems(request)
    if problems:  # a demo that breaks the contract is a bug in this file
        raise ValueError(f"demo handover breaks the contract: {problems}")
    return HandoverCreate.model_validate(request)


def _stage_demo(session: Session, handover: Handover, demo: DemoCase, user: StaffUser) -> None:
    """Put a fresh demo case where the inbox should show it: its age, its case worker and
    its last call attempt (the demo user of the organisation works it)."""
    arrived = utcnow() - timedelta(days=demo.days_ago)
    handover.created_at = arrived
    handover.updated_at = arrived
    # Its claim time counts from its (demo) arrival: an old new case is escalated by the worker.
    handover.claim_due_at = notifications.claim_deadline(handover, current_directory())
    if demo.status == "claimed":
        handover.status = "claimed"
        handover.assigned_username = user.username
        handover.assigned_name = user.display_name
        handover.assigned_at = arrived + timedelta(hours=2)
        handover.claimed_at = handover.assigned_at
    if demo.call is not None:
        outcome, call_back_in, note = demo.call
        at = arrived + timedelta(hours=3)
        callback = None
        if call_back_in is not None:
            day = (utcnow() + timedelta(days=call_back_in)).date()
            callback = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        handover.call_attempts.append(
            CallAttempt(
                at=at,
                author_username=user.username,
                author_display_name=user.display_name,
                outcome=outcome,
                callback_at=callback,
                note=note,
            )
        )
        if outcome == "bereikt":
            handover.first_contact_at = at
    session.commit()


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One demo user's outcome: the token to print, or why there is none."""

    organisation: str
    username: str
    token: str | None
    problem: str | None = None


def _demo_token(
    session: Session, user: StaffUser, fixed: str | None, days: int
) -> tuple[str | None, str | None]:
    """(token, None) to print, or (None, problem) when the demo user must not get one.

    An administrator who revoked a demo token meant it: re-seeding never brings it back and
    mints no replacement. An expired fixed token is not renewed either (it would silently
    extend a known, published value).
    """
    if not user.active:
        return None, "user is deactivated; no token issued"
    if fixed:
        existing = users.find_token(session, token=fixed)
        if existing is not None and existing.revoked_at is not None:
            return None, f"token {existing.id} was revoked and stays revoked; no token issued"
        if existing is not None and existing.expires_at <= utcnow():
            return None, (
                f"token {existing.id} expired on {existing.expires_at:%Y-%m-%d}; "
                f"make a new one with: token create --username {user.username}"
            )
    elif any(token.revoked_at is not None for token in user.tokens):
        return None, "a token of this user was revoked; no new token issued"
    try:
        return users.issue_token(session, user=user, token=fixed or None, days=days), None
    except users.UserError as exc:
        return None, f"{exc}; no token issued"


def _seed_demo_conversations(session: Session) -> None:
    """The demo conversations for the review page (once; a conversation already there stays)."""
    start = utcnow() - timedelta(hours=3)
    for number, (conversation_id, messages) in enumerate(DEMO_CONVERSATIONS.items()):
        if session.get(Conversation, conversation_id) is not None:
            continue
        began = start + timedelta(minutes=30 * number)
        user = [m for m in messages if m[0] == "user"]
        confidences = [m[3] for m in user if m[3] is not None]
        session.add(
            Conversation(
                id=conversation_id,
                sender_key=f"demo-{number}",
                municipality_code=DEMO_MUNICIPALITIES["Helmond"],
                channel="web",
                started_at=began,
                last_at=began + timedelta(minutes=len(messages)),
                user_messages=len(user),
                fallbacks=sum(1 for m in user if m[4]),
                low_confidence=sum(1 for c in confidences if c < LOW_CONFIDENCE),
                min_confidence=min(confidences) if confidences else None,
            )
        )
        session.add_all(
            ConversationEvent(
                conversation_id=conversation_id,
                event_id=f"demo-{index}",
                sender=sender,
                text=text,
                at=began + timedelta(minutes=index),
                intent=intent,
                confidence=confidence,
                fallback=fallback,
            )
            for index, (sender, text, intent, confidence, fallback) in enumerate(messages)
        )
    session.commit()


def seed_demo(settings: Settings, *, with_handovers: bool = True) -> list[DemoLogin]:
    """Create the demo users (if missing); return per user the token to print or the problem."""
    rows: list[DemoLogin] = []
    with _session(settings) as session:
        for username, display_name, organisation, team, env_name, role in DEMO_USERS:
            user = users.get_user(session, username=username) or users.create_user(
                session,
                username=username,
                organisation=organisation,
                display_name=display_name,
                team=team,
                role=role,
            )
            fixed = getattr(settings, env_name)
            token, problem = _demo_token(
                session,
                user,
                fixed.get_secret_value() if fixed else None,
                settings.VOORDEUR_TOKEN_DAYS,
            )
            rows.append(DemoLogin(organisation, username, token, problem))
        session.commit()
        if with_handovers:
            _seed_demo_conversations(session)
            for username, _name, organisation, _team, _env, role in DEMO_USERS:
                if role != "staff":
                    continue
                worker = users.get_user(session, username=username)
                assert worker is not None
                for index in (1, 2):
                    key = f"demo-{organisation}-{index}"
                    if handovers.get_by_idempotency_key(session, key=key) is None:
                        result = handovers.create_handover(
                            session,
                            payload=_demo_payload(organisation, index),
                            idempotency_key=key,
                            actor="cli:seed-demo",
                        )
                        _stage_demo(
                            session, result.handover, _demo_case(organisation, index), worker
                        )
    return rows


def _date(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "-"


def _token_rows(tokens: Sequence[ApiToken]) -> list[str]:
    """One line per token: never its value (only the hash is stored anyway)."""
    now = utcnow()
    lines = ["id\tuser\tcreated\texpires\trevoked\tstate"]
    for t in tokens:
        state = "revoked" if t.revoked_at else "expired" if t.expires_at <= now else "active"
        lines.append(
            f"{t.id}\t{t.user.username}\t{_date(t.created_at)}\t{_date(t.expires_at)}"
            f"\t{_date(t.revoked_at)}\t{state}"
        )
    return lines


def _days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError("must be between 1 and 3650")
    return days


def _create_token(session: Session, settings: Settings, *, username: str, days: int | None) -> int:
    """Print a new personal token for ``username`` (shown once); 1 when the user is unknown."""
    user = users.get_user(session, username=username)
    if user is None:
        print(f"error: no user {username!r}", file=sys.stderr)
        return 1
    lifetime = days or settings.VOORDEUR_TOKEN_DAYS
    token = users.issue_token(session, user=user, days=lifetime)
    session.commit()
    print(f"new bearer token for {username}, valid {lifetime} days (shown once):")
    print(token)
    return 0


def token_command(args: argparse.Namespace, settings: Settings) -> int:
    """``token list|create|revoke``: manage personal tokens without ever printing old ones."""
    with _session(settings) as session:
        if args.token_command == "list":
            if args.username and users.get_user(session, username=args.username) is None:
                print(f"error: no user {args.username!r}", file=sys.stderr)
                return 1
            for line in _token_rows(users.list_tokens(session, username=args.username)):
                print(line)
            return 0
        if args.token_command == "create":
            return _create_token(session, settings, username=args.username, days=args.days)
        # revoke
        if args.id is not None:
            try:
                row = users.revoke_token(session, token_id=args.id)
            except users.UserError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            session.commit()
            print(f"token {row.id} of {row.user.username} is revoked; its sessions are ended")
            return 0
        if not args.all:
            print("error: use --id N, or --username U --all", file=sys.stderr)
            return 2
        user = users.get_user(session, username=args.username)
        if user is None:
            print(f"error: no user {args.username!r}", file=sys.stderr)
            return 1
        count = users.revoke_all(session, user=user)
        session.commit()
        print(f"revoked {count} token(s) of {args.username}; their sessions are ended")
        return 0


def export_due(settings: Settings, *, limit: int, retry_failed: bool) -> int:
    from handover_api.services import exports
    from handover_api.services.directory import DirectoryError, load_directory

    try:
        directory = load_directory(settings.VOORDEUR_DATA_DIR)
    except DirectoryError as exc:
        print(f"error: region configuration: {exc}", file=sys.stderr)
        return 1
    with _session(settings) as session:
        if retry_failed:
            print(f"failed exports requeued: {exports.retry_failed(session)}")
        report = exports.deliver_due(session, directory=directory, limit=max(limit, 1))
    print(f"exports done: {report.done}")
    print(f"exports to retry later: {report.retrying}")
    print(f"exports failed: {report.failed}")
    return 0


def worker_round(settings: Settings, session: Session, directory: Directory) -> dict[str, int]:
    """One round of the background work; returns the counts of what happened."""
    from handover_api.services import escalation, exports, notifications

    first = notifications.deliver_due(session, settings, directory=directory)
    escalated = escalation.escalate_due(session, directory=directory)
    # The escalations just queued go out in the same round.
    second = notifications.deliver_due(session, settings, directory=directory)
    exported = exports.deliver_due(session, directory=directory)
    return {
        "notifications sent": first.done + second.done,
        "notifications to retry later": first.retrying + second.retrying,
        "notifications failed": first.failed + second.failed,
        "handovers escalated": escalated,
        "exports done": exported.done,
        "exports to retry later": exported.retrying,
        "exports failed": exported.failed,
    }


def worker(settings: Settings, *, once: bool, retry_failed: bool = False) -> int:
    """Run ``worker_round`` now and then every interval until stopped (SIGTERM / Ctrl-C)."""
    import logging
    import signal
    import threading

    from handover_api.core.logging import configure_logging
    from handover_api.services import notifications
    from handover_api.services.directory import DirectoryError, load_directory

    configure_logging(settings.VOORDEUR_LOG_LEVEL)
    log = logging.getLogger("handover_api.worker")
    try:
        directory = load_directory(settings.VOORDEUR_DATA_DIR)
    except DirectoryError as exc:
        print(f"error: region configuration: {exc}", file=sys.stderr)
        return 1
    notifications.configure(settings)
    factory = make_session_factory(make_engine(settings.DATABASE_URL))
    if retry_failed:
        from handover_api.services import exports

        with factory() as session:
            print(f"failed notifications requeued: {notifications.retry_failed(session)}")
            print(f"failed exports requeued: {exports.retry_failed(session)}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while True:
        try:
            with factory() as session:
                counts = worker_round(settings, session, directory)
        except Exception:  # the database restarting must not end the worker
            if once:
                raise
            log.exception("worker round failed; trying again next round")
            counts = {}
        if once:
            for name, count in counts.items():
                print(f"{name}: {count}")
            return 0
        if any(counts.values()):
            log.info("worker round: %s", ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        try:
            if stop.wait(settings.VOORDEUR_WORKER_INTERVAL_SECONDS):
                return 0
        except KeyboardInterrupt:
            return 0


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
    p.add_argument("--role", choices=ROLES, default="staff", help="default: staff")
    p.add_argument("--days", type=_days, default=None, help="token lifetime (VOORDEUR_TOKEN_DAYS)")
    p = sub.add_parser("create-token", help="print a new bearer token for a staff user")
    p.add_argument("--username", required=True)
    p.add_argument("--days", type=_days, default=None, help="token lifetime (VOORDEUR_TOKEN_DAYS)")
    p = sub.add_parser("token", help="list, create or revoke personal tokens")
    tokens = p.add_subparsers(dest="token_command", required=True)
    t = tokens.add_parser("list", help="tokens (id, user, created, expires, revoked), no values")
    t.add_argument("--username", default=None)
    t = tokens.add_parser("create", help="print a new token for a user (shown once)")
    t.add_argument("--username", required=True)
    t.add_argument("--days", type=_days, default=None, help="lifetime (VOORDEUR_TOKEN_DAYS)")
    t = tokens.add_parser("revoke", help="revoke a token and end its staff page sessions")
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, default=None, help="the id shown by token list")
    which.add_argument("--username", default=None, help="with --all: every token of a user")
    t.add_argument("--all", action="store_true", help="with --username")
    p = sub.add_parser("purge", help="delete expired data (VOORDEUR_RETENTION_DAYS)")
    p.add_argument("--days", type=int, default=None, help="override the retention period")
    p = sub.add_parser("seed-demo", help="demo staff users and handovers (idempotent)")
    p.add_argument("--no-handovers", action="store_true", help="only the users")
    p.add_argument("--force", action="store_true", help="also when VOORDEUR_ENV=production")
    p = sub.add_parser("export-due", help="deliver the due handover exports (outbox)")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--retry-failed", action="store_true", help="requeue failed exports first")
    p = sub.add_parser("worker", help="announce, escalate and export in the background")
    p.add_argument("--once", action="store_true", help="one round, print the counts, stop")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="first put failed notifications and exports back in the queue",
    )
    p = sub.add_parser("serve", help="run the API with uvicorn")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--reload", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings or get_settings()
    except ValidationError as exc:  # e.g. an unparsable DATABASE_URL: refuse to start
        print(f"error: invalid configuration:\n{describe_errors(exc)}", file=sys.stderr)
        return 2
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
                    role=args.role,
                )
            except users.UserError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            days = args.days or settings.VOORDEUR_TOKEN_DAYS
            token = users.issue_token(session, user=user, days=days)
            session.commit()
        print(
            f"created user {args.username} ({args.organisation}, role {args.role}); "
            f"bearer token, valid {days} days (shown once):"
        )
        print(token)
        return 0
    if args.command == "create-token":
        with _session(settings) as session:
            return _create_token(session, settings, username=args.username, days=args.days)
    if args.command == "purge":
        days = args.days if args.days is not None else settings.VOORDEUR_RETENTION_DAYS
        if days < 1:
            print("error: --days must be at least 1", file=sys.stderr)
            return 1
        with _session(settings) as session:
            result = retention.purge(
                session,
                retention_days=days,
                conversation_retention_days=settings.VOORDEUR_CONVERSATION_RETENTION_DAYS,
                max_open_days=settings.VOORDEUR_MAX_OPEN_DAYS,
            )
        print(f"retention: {days} days after closing")
        print(f"open handovers kept at most: {settings.VOORDEUR_MAX_OPEN_DAYS} days")
        print(f"conversation events kept: {settings.VOORDEUR_CONVERSATION_RETENTION_DAYS} days")
        print(f"handovers deleted: {result.handovers}")
        print(f"notes deleted: {result.notes}")
        print(f"transcript lines deleted: {result.transcript_events}")
        print(f"conversations deleted (review log): {result.conversations}")
        print(f"conversation events deleted: {result.events}")
        print(f"stale sender links deleted: {result.senders}")
        print(f"audit rows reduced to ids: {result.audit_rows}")
        return 0
    if args.command == "seed-demo":
        if settings.is_production and not args.force:
            print("error: refusing to seed demo data in production (use --force)", file=sys.stderr)
            return 1
        rows = seed_demo(settings, with_handovers=not args.no_handovers)
        print("demo staff users (organisation, username, bearer token):")
        for row in rows:
            if row.token is not None:
                print(f"{row.organisation}\t{row.username}\t{row.token}")
        for row in rows:
            if row.problem is not None:
                print(f"warning: {row.username}: {row.problem}", file=sys.stderr)
        return 0
    if args.command == "token":
        return token_command(args, settings)
    if args.command == "export-due":
        return export_due(settings, limit=args.limit, retry_failed=args.retry_failed)
    if args.command == "worker":
        return worker(settings, once=args.once, retry_failed=args.retry_failed)
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
