"""The staff workspace under realistic data volumes (a benchmark, not a test).

Starts the real API (uvicorn, one worker) on a free loopback port with a fresh SQLite database
(or DATABASE_URL, or ``--postgres``: a throwaway database on the local server that is dropped
afterwards), seeds N handovers and M conversations with bulk inserts shaped as the services
write them (``services/handovers.create_handover``, ``services/conversation_log``), logs in
through the real login form and times what case workers and reviewers do: the inbox and its
filters and searches, a case, claiming and logging a call, the API list, the conversation
review pages, the dashboard, the NLU export, and Rasa's event stream (events per second,
sequential and concurrent). Prints p50/p95/max per route.

    .venv-api/bin/python tests/bench/staff_workspace.py [--handovers 5000] [--conversations 20000]
        [--reps 20] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from handover_api.core.db import make_engine  # noqa: E402
from handover_api.models import (  # noqa: E402
    CallAttempt,
    Conversation,
    ConversationEvent,
    Handover,
    ReviewMark,
    TranscriptEvent,
)
from handover_api.services import users  # noqa: E402
from handover_api.services.conversation_log import LOW_CONFIDENCE  # noqa: E402
from handover_api.services.conversation_log import _key as event_key  # noqa: E402
from handover_api.services.handovers import domain_codes_of, phone_digits  # noqa: E402
from tests.bench.api_server import SERVICE_TOKEN, api_env, migrate, start_api  # noqa: E402

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SLOW_MS = 500.0
CHUNK = 5000
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

PEEL = "peel61"
HELMOND = "gemeente-helmond"
# peel61 (regional, werk-inkomen) serves these; gemeente-helmond (local) only Helmond.
PEEL_MUNICIPALITIES = {
    "GM0794": "Helmond",
    "GM0762": "Deurne",
    "GM0743": "Asten",
    "GM0847": "Someren",
    "GM1652": "Gemert-Bakel",
    "GM1659": "Laarbeek",
    "GM1771": "Geldrop-Mierlo",
}
# Conversations of municipalities outside Peelland (not in scope for these reviewers).
OTHER_MUNICIPALITIES = ["GM0453", "GM0375", "GM0361", "GM0632"]
DOMAINS = [
    "inkomen",
    "schulden",
    "werk_opleiding",
    "huisvesting",
    "huiselijke_relaties",
    "geestelijke_gezondheid",
    "lichamelijke_gezondheid",
    "sociaal_netwerk",
    "opvoeding",
    "middelengebruik",
]
STATUS_WEIGHTS = {"new": 30, "claimed": 15, "in_progress": 20, "returned": 5, "closed": 30}
INTENTS = ["bijstand", "schulden", "huurachterstand", "toeslagen", "wmo", "werk", "inform"]
USER_TEXTS = [
    "ik kan mijn huur niet meer betalen",
    "ik heb geen inkomen meer sinds vorige maand",
    "ik heb schulden en de deurwaarder komt",
    "hoe vraag ik bijstand aan",
    "ik zoek hulp bij het huishouden",
    "mijn uitkering is gestopt",
    "wanneer kan ik iemand spreken",
    "ja graag",
    "ik woon in Helmond",
    "de huurachterstand loopt op",
]
BOT_TEXTS = [
    "Welkom bij Voordeur, de digitale assistent van uw gemeente.",
    "Waar kan ik u mee helpen?",
    "Wilt u een medewerker spreken?",
    "Sorry, dat begreep ik niet. Kunt u het anders zeggen?",
    "Ik zet uw vraag door naar de gemeente.",
    "Mag ik uw telefoonnummer?",
]


# --- seeding ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    peel_token: str = ""
    helmond_token: str = ""
    reviewer_token: str = ""
    peel_ids: list[str] = field(default_factory=list)
    peel_new_ids: list[str] = field(default_factory=list)
    peel_phones: list[str] = field(default_factory=list)
    peel_references: list[str] = field(default_factory=list)
    conversation_ids: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)


def chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for part in chunks(rows):
        session.execute(insert(model), part)


def phone(rng: random.Random) -> str:
    number = f"06{rng.randrange(10**8):08d}"
    return rng.choice([number, f"+316{number[2:]}", f"06-{number[2:]}"])


def handover_rows(
    n: int, rng: random.Random, now: datetime, conversation_ids: list[str], case_workers: dict
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Handovers, their transcripts (8 messages) and call attempts, as create_handover and
    the staff pages write them."""
    handovers: list[dict[str, Any]] = []
    transcripts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    references: set[str] = set()
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    for _ in range(n):
        peel = rng.random() < 0.6
        org = PEEL if peel else HELMOND
        if peel:
            code = rng.choice(list(PEEL_MUNICIPALITIES))
            team, level = "werk-inkomen", "regional"
        else:
            code, team, level = "GM0794", rng.choice(["kcc", "wijkteam"]), "local"
        while True:
            letters = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=4))
            reference = f"VD-{letters}-{rng.randrange(100):02d}"
            if reference not in references:
                references.add(reference)
                break
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        status = rng.choices(statuses, weights)[0]
        crisis = rng.random() < 0.03
        priority = "urgent" if crisis or rng.random() < 0.08 else "normal"
        domains = rng.sample(DOMAINS, rng.choice([1, 1, 2, 2, 3]))
        life_domains = [{"code": d, "evidence": [f"bewijs voor {d}"]} for d in domains]
        contact_phone = phone(rng) if rng.random() < 0.85 else None
        withdrawn = created + timedelta(days=1) if rng.random() < 0.02 else None
        assigned = None
        claimed_at = first_contact = closed_at = None
        if status != "new":
            claimed_at = created + timedelta(minutes=rng.randrange(5, 60 * 48))
            assigned = rng.choice(case_workers[org])
            if rng.random() < 0.7:
                first_contact = claimed_at + timedelta(minutes=rng.randrange(1, 60 * 24))
        if status in ("returned", "closed"):
            closed_at = created + timedelta(days=rng.randrange(1, 10))
        hid = uuid.uuid4()
        conversation_id = (
            rng.choice(conversation_ids)
            if conversation_ids and rng.random() < 0.5
            else f"c-{uuid.uuid4().hex}"
        )
        municipality_name = PEEL_MUNICIPALITIES[code]
        handovers.append(
            {
                "id": hid,
                "reference": reference,
                "status": status,
                "priority": priority,
                "created_at": created,
                "updated_at": claimed_at or created,
                "closed_at": closed_at,
                "municipality_code": code,
                "municipality_name": municipality_name,
                "destination_level": level,
                "destination_organisation": org,
                "destination_team": team,
                "destination_reason": "Vraag over inkomen en schulden.",
                "life_domains": life_domains,
                "multi_problem": len(domains) > 2,
                "crisis": {"type": "huiselijk_geweld", "evidence": ["bang thuis"]}
                if crisis
                else None,
                "summary": (
                    f"Vraag: {domains[0].replace('_', ' ')}.\nGemeente: {municipality_name}.\n"
                    f"In eigen woorden: \u201cik heb hulp nodig met {domains[0]}\u201d"
                ),
                "application": None,
                "contact": {
                    "name": None,
                    "phone": contact_phone,
                    "email": None,
                    "preferred": "phone" if contact_phone else None,
                    "best_time": None,
                },
                "consent_given": True,
                "consent_at": created,
                "consent_text_version": "toestemming-2026-11-v1",
                "consent_organisation": org,
                "consent_recorded_by": "service:action-server",
                "consent_withdrawn_at": withdrawn,
                "conversation_id": conversation_id,
                "channel": rng.choice(["web", "web", "sms", "whatsapp"]),
                "idempotency_key": str(uuid.uuid4()),
                "request_hash": hashlib.sha256(reference.encode()).hexdigest(),
                "return_reason": "Hoort bij het andere niveau." if status == "returned" else None,
                "assigned_username": assigned[0] if assigned else None,
                "assigned_name": assigned[1] if assigned else None,
                "assigned_at": claimed_at,
                "claimed_at": claimed_at,
                "first_contact_at": first_contact,
                "search_phone": phone_digits(contact_phone),
                "domain_codes": domain_codes_of(life_domains),
                "returned_from_id": None,
            }
        )
        for j in range(8):
            sender = "bot" if j % 2 == 0 else "user"
            text_ = rng.choice(BOT_TEXTS if sender == "bot" else USER_TEXTS)
            at = created - timedelta(minutes=8 - j)
            transcripts.append(
                {
                    "handover_id": hid,
                    "event_id": f"r:{hashlib.sha256(f'{hid}{j}'.encode()).hexdigest()[:40]}",
                    "sender": sender,
                    "text": text_,
                    "at": at,
                    "intent": rng.choice(INTENTS) if sender == "user" else None,
                }
            )
        if first_contact is not None or (claimed_at and rng.random() < 0.3):
            for k in range(rng.randrange(1, 3)):
                calls.append(
                    {
                        "id": uuid.uuid4(),
                        "handover_id": hid,
                        "at": (claimed_at or created) + timedelta(hours=k + 1),
                        "author_username": assigned[0] if assigned else "bench",
                        "author_display_name": assigned[1] if assigned else "bench",
                        "outcome": "bereikt" if k else "niet_bereikt",
                        "callback_at": None,
                        "note": None,
                    }
                )
    return handovers, transcripts, calls


def conversation_rows(
    m: int, rng: random.Random, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Conversations with ~6 messages (alternating bot/user) and consistent counters, as
    services/conversation_log stores them."""
    conversations: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    peel_codes = list(PEEL_MUNICIPALITIES)
    for _ in range(m):
        cid = f"c-{uuid.uuid4().hex}"
        r = rng.random()
        if r < 0.5:
            code = "GM0794"
        elif r < 0.9:
            code = rng.choice(peel_codes)
        else:
            code = rng.choice(OTHER_MUNICIPALITIES)
        started = now - timedelta(minutes=rng.randrange(60 * 24 * 30))
        n_events = rng.choice([4, 6, 6, 6, 8])
        ts = started.timestamp()
        counters = {"user_messages": 0, "fallbacks": 0, "low_confidence": 0}
        min_conf: float | None = None
        last = started
        for j in range(n_events):
            sender = "bot" if j % 2 == 0 else "user"
            at_ts = ts + 20 * j
            at = datetime.fromtimestamp(at_ts, UTC)
            last = at
            if sender == "bot":
                events.append(
                    {
                        "conversation_id": cid,
                        "event_id": event_key(
                            cid, "bot", at_ts, BOT_TEXTS[j // 2 % len(BOT_TEXTS)]
                        ),
                        "sender": "bot",
                        "text": BOT_TEXTS[j // 2 % len(BOT_TEXTS)],
                        "at": at,
                        "intent": None,
                        "received_at": at,
                        "confidence": None,
                        "fallback": False,
                    }
                )
                continue
            text_ = rng.choice(USER_TEXTS)
            fallback = rng.random() < 0.08
            confidence = (
                round(rng.uniform(0.2, 0.49), 3)
                if rng.random() < 0.12
                else round(rng.uniform(0.5, 0.99), 3)
            )
            intent = "nlu_fallback" if fallback else rng.choice(INTENTS)
            counters["user_messages"] += 1
            counters["fallbacks"] += int(fallback)
            counters["low_confidence"] += int(confidence < LOW_CONFIDENCE)
            min_conf = confidence if min_conf is None else min(min_conf, confidence)
            events.append(
                {
                    "conversation_id": cid,
                    "event_id": event_key(cid, "user", at_ts, text_),
                    "sender": "user",
                    "text": text_,
                    "at": at,
                    "intent": intent,
                    "received_at": at,
                    "confidence": confidence,
                    "fallback": fallback,
                }
            )
        conversations.append(
            {
                "id": cid,
                "sender_key": hashlib.sha256(cid.encode()).hexdigest(),
                "municipality_code": code,
                "channel": rng.choice(["web", "web", "sms", "whatsapp"]),
                "started_at": started,
                "last_at": last,
                "min_confidence": min_conf,
                "erased_at": None,
                **counters,
            }
        )
    return conversations, events


def seed(url: str, n: int, m: int, rng: random.Random) -> Seeded:
    engine = make_engine(url)
    out = Seeded()
    now = datetime.now(UTC)
    with Session(engine) as session:
        people = {
            PEEL: [("cw-peel", "Casus Peel"), ("cw-peel-2", "Tweede Peel"), ("cw-peel-3", "Derde")],
            HELMOND: [("cw-helmond", "Casus Helmond"), ("cw-helmond-2", "Tweede Helmond")],
        }
        tokens = {}
        for org, members in people.items():
            for username, name in members:
                user = users.create_user(
                    session, username=username, organisation=org, display_name=name
                )
                tokens[username] = users.issue_token(session, user=user)
        reviewer = users.create_user(
            session,
            username="rv-peel",
            organisation=PEEL,
            display_name="Reviewer Peel",
            role="reviewer",
        )
        out.reviewer_token = users.issue_token(session, user=reviewer)
        out.peel_token, out.helmond_token = tokens["cw-peel"], tokens["cw-helmond"]
        session.commit()

        conversations, events = conversation_rows(m, rng, now)
        bulk(session, Conversation, conversations)
        bulk(session, ConversationEvent, events)
        session.commit()
        in_scope = {c["id"] for c in conversations if c["municipality_code"] in PEEL_MUNICIPALITIES}
        out.conversation_ids = sorted(in_scope)

        handovers, transcripts, calls = handover_rows(
            n, rng, now, [c["id"] for c in conversations], people
        )
        bulk(session, Handover, handovers)
        bulk(session, TranscriptEvent, transcripts)
        bulk(session, CallAttempt, calls)
        session.commit()

        # Review marks: ~3 % of the in-scope resident messages, by peel61's reviewer.
        user_events = session.execute(
            select(ConversationEvent.id, ConversationEvent.conversation_id).where(
                ConversationEvent.sender == "user"
            )
        ).all()
        marks = [
            {
                "event_id": eid,
                "conversation_id": cid,
                "correct_intent": rng.choice(INTENTS[:-1]),
                "reviewer_username": "rv-peel",
                "reviewer_display_name": "Reviewer Peel",
                "organisation": PEEL,
                "created_at": now - timedelta(days=rng.randrange(20)),
            }
            for eid, cid in user_events
            if cid in in_scope and rng.random() < 0.03
        ]
        bulk(session, ReviewMark, marks)
        session.commit()
    if engine.dialect.name == "postgresql":
        # As autovacuum would after a load like this: planner statistics for the new rows.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))

    peel = [h for h in handovers if h["destination_organisation"] == PEEL]
    out.peel_ids = [str(h["id"]) for h in peel]
    out.peel_new_ids = [str(h["id"]) for h in peel if h["status"] == "new"]
    covered = [h for h in peel if h["search_phone"] and h["consent_withdrawn_at"] is None]
    out.peel_phones = [f"06{h['search_phone'][1:]}" for h in covered]
    out.peel_references = [h["reference"] for h in peel]
    out.sizes = {
        "handovers": len(handovers),
        f"  {PEEL}": len(peel),
        f"  {HELMOND}": len(handovers) - len(peel),
        "transcript events": len(transcripts),
        "call attempts": len(calls),
        "conversations": len(conversations),
        "  in peel61's municipalities": len(in_scope),
        "conversation events": len(events),
        "review marks": len(marks),
    }
    engine.dispose()
    return out


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    ms: list[float]
    codes: dict[int, int]
    extra: str = ""

    @property
    def p95(self) -> float:
        return pct(self.ms, 95)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def login(base: str, token: str) -> tuple[httpx.Client, str]:
    """A browser-like client logged in through the real form; returns it and the session's
    CSRF token for form posts."""
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/staff/login")
    field_ = CSRF_RE.search(page.text)
    assert field_, "no CSRF field on the login page"
    resp = client.post("/staff/login", data={"token": token, "csrf_token": field_.group(1)})
    assert resp.status_code == 303, f"login failed: {resp.status_code}"
    home = client.get(resp.headers["location"])
    csrf = CSRF_RE.search(home.text)
    assert csrf, "no CSRF token on the home page"
    return client, csrf.group(1)


def measure(
    label: str,
    reps: int,
    call: Callable[[int], httpx.Response],
    ok: tuple[int, ...] = (200,),
    warmup: int = 2,
) -> Row:
    for i in range(warmup):
        call(-1 - i)
    ms: list[float] = []
    codes: dict[int, int] = {}
    for i in range(reps):
        start = time.perf_counter()
        resp = call(i)
        ms.append((time.perf_counter() - start) * 1000)
        codes[resp.status_code] = codes.get(resp.status_code, 0) + 1
    bad = {c: k for c, k in codes.items() if c not in ok}
    if bad:
        print(f"  ! {label}: unexpected status {bad}", flush=True)
    return Row(label, ms, codes)


def rasa_batch(rng: random.Random, t0: float) -> list[dict[str, Any]]:
    """50 events of a new sender as Rasa's event broker publishes them: the session start
    (greeting before the conversation_ref slot), the municipality, then 11 turns."""
    ref = f"c-{uuid.uuid4().hex}"
    events: list[dict[str, Any]] = [
        {"event": "action", "timestamp": t0, "name": "action_session_start"},
        {"event": "bot", "timestamp": t0 + 0.1, "text": BOT_TEXTS[0], "data": {}},
        {"event": "session_started", "timestamp": t0 + 0.2},
        {"event": "slot", "timestamp": t0 + 0.3, "name": "conversation_ref", "value": ref},
        {"event": "slot", "timestamp": t0 + 0.35, "name": "gemeente_code", "value": "GM0794"},
        {"event": "action", "timestamp": t0 + 0.4, "name": "action_listen"},
    ]
    for turn in range(11):
        ts = t0 + 10 * (turn + 1)
        text_ = rng.choice(USER_TEXTS)
        fallback = rng.random() < 0.1
        events += [
            {
                "event": "user",
                "timestamp": ts,
                "text": f"{text_} ({turn})",
                "parse_data": {
                    "intent": {
                        "name": "nlu_fallback" if fallback else rng.choice(INTENTS),
                        "confidence": round(rng.uniform(0.3, 0.99), 3),
                    },
                    "entities": [],
                    "text": text_,
                },
                "input_channel": "rest",
                "metadata": {"channel": "web"},
                "message_id": uuid.uuid4().hex,
            },
            {
                "event": "action",
                "timestamp": ts + 0.1,
                "name": "action_not_understood" if fallback else "action_answer",
            },
            {
                "event": "bot",
                "timestamp": ts + 0.2,
                "text": rng.choice(BOT_TEXTS[1:]),
                "data": {"buttons": [{"title": "Ja", "payload": "/affirm"}]},
            },
            {"event": "action", "timestamp": ts + 0.3, "name": "action_listen"},
        ]
    assert len(events) == 50
    return events


def ingest_body(rng: random.Random) -> dict[str, Any]:
    return {
        "sender_key": uuid.uuid4().hex + uuid.uuid4().hex,
        "events": rasa_batch(rng, time.time() - 3600 + rng.random()),
    }


async def ingest_concurrent(
    base: str, bodies: list[dict[str, Any]], concurrency: int
) -> tuple[list[float], dict[int, int], float]:
    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    ms: list[float] = []
    codes: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as client:

        async def one(body: dict[str, Any]) -> None:
            async with sem:
                start = time.perf_counter()
                resp = await client.post("/api/v1/conversations/rasa-events", json=body)
                ms.append((time.perf_counter() - start) * 1000)
                codes[resp.status_code] = codes.get(resp.status_code, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return ms, codes, time.perf_counter() - start


def run(base: str, seeded: Seeded, reps: int, batches: int, concurrency: int) -> list[Row]:
    rng = random.Random(7)
    rows: list[Row] = []
    cw, cw_csrf = login(base, seeded.peel_token)
    cw_helmond, _ = login(base, seeded.helmond_token)
    reviewer, _ = login(base, seeded.reviewer_token)
    api_cw = httpx.Client(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {seeded.peel_token}"}
    )
    api_rv = httpx.Client(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {seeded.reviewer_token}"}
    )
    service = httpx.Client(
        base_url=base, timeout=60, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    )
    phones = seeded.peel_phones
    refs = seeded.peel_references

    def get(client: httpx.Client, url: str) -> Callable[[int], httpx.Response]:
        return lambda _i: client.get(url)

    def add(row: Row) -> None:
        rows.append(row)
        print(f"  {row.label:<44} p50={statistics.median(row.ms):7.1f} ms", flush=True)

    inbox = [
        ("GET /staff/inbox (default)", "/staff/inbox"),
        ("GET /staff/inbox?status=new", "/staff/inbox?status=new"),
        ("GET /staff/inbox?domain=schulden", "/staff/inbox?domain=schulden"),
        ("GET /staff/inbox?assigned=me (mijn zaken)", "/staff/inbox?assigned=me"),
        ("GET /staff/inbox?page=20", "/staff/inbox?page=20"),
    ]
    for label, url in inbox:
        add(measure(label, reps, get(cw, url)))
    add(measure("GET /staff/inbox (gemeente-helmond)", reps, get(cw_helmond, "/staff/inbox")))
    add(
        measure(
            "GET /staff/inbox?q=06... (phone)",
            reps,
            lambda i: cw.get("/staff/inbox", params={"q": phones[i % len(phones)]}),
        )
    )
    add(
        measure(
            "GET /staff/inbox?q=VD-... (reference)",
            reps,
            lambda i: cw.get("/staff/inbox", params={"q": refs[i % len(refs)]}),
        )
    )
    add(
        measure(
            "GET /staff/handovers/{id}",
            reps,
            lambda i: cw.get(f"/staff/handovers/{seeded.peel_ids[i % len(seeded.peel_ids)]}"),
        )
    )
    claimable = list(seeded.peel_new_ids)
    rng.shuffle(claimable)
    claim_ids = claimable[: reps + 2]
    add(
        measure(
            "POST /staff/handovers/{id}/status (claim)",
            reps,
            lambda i: cw.post(
                f"/staff/handovers/{claim_ids[i + 2]}/status",
                data={"status": "claimed", "csrf_token": cw_csrf},
            ),
            ok=(303,),
        )
    )
    add(
        measure(
            "POST /staff/handovers/{id}/calls",
            reps,
            lambda i: cw.post(
                f"/staff/handovers/{claim_ids[i + 2]}/calls",
                data={"outcome": "niet_bereikt", "note": "voicemail", "csrf_token": cw_csrf},
            ),
            ok=(303,),
        )
    )
    for label, url in [
        ("GET /api/v1/handovers", "/api/v1/handovers"),
        (
            "GET /api/v1/handovers?status=new&domain=inkomen",
            "/api/v1/handovers?status=new&domain=inkomen",
        ),
        (
            "GET /api/v1/handovers?priority=urgent&assigned=none",
            "/api/v1/handovers?priority=urgent&assigned=none",
        ),
        ("GET /api/v1/handovers?page_size=100", "/api/v1/handovers?page_size=100"),
    ]:
        add(measure(label, reps, get(api_cw, url)))
    add(
        measure(
            "GET /api/v1/handovers?q=06... (phone)",
            reps,
            lambda i: api_cw.get("/api/v1/handovers", params={"q": phones[-1 - i % len(phones)]}),
        )
    )
    for label, url in [
        ("GET /staff/gesprekken (default)", "/staff/gesprekken"),
        ("GET /staff/gesprekken?fallback=ja", "/staff/gesprekken?fallback=ja"),
        ("GET /staff/gesprekken?onzeker=ja", "/staff/gesprekken?onzeker=ja"),
        ("GET /staff/gesprekken?overdracht=nee", "/staff/gesprekken?overdracht=nee"),
        ("GET /staff/gesprekken?q=huur", "/staff/gesprekken?q=huur"),
    ]:
        add(measure(label, reps, get(reviewer, url)))
    conv = seeded.conversation_ids
    add(
        measure(
            "GET /staff/gesprekken/{id}",
            reps,
            lambda i: reviewer.get(f"/staff/gesprekken/{conv[(i * 7919) % len(conv)]}"),
        )
    )
    add(
        measure(
            "GET /api/v1/conversations?page_size=20",
            reps,
            get(api_rv, "/api/v1/conversations?page_size=20"),
        )
    )
    add(measure("GET /staff/statistieken (case worker)", reps, get(cw, "/staff/statistieken")))
    add(measure("GET /staff/statistieken (reviewer)", reps, get(reviewer, "/staff/statistieken")))
    add(measure("GET /api/v1/stats (30 days)", reps, get(api_cw, "/api/v1/stats")))
    add(measure("GET /api/v1/reviews/export", reps, get(api_rv, "/api/v1/reviews/export")))

    # Rasa's event stream: batches of 50 events of new senders.
    bodies = [ingest_body(rng) for _ in range(batches)]
    start = time.perf_counter()
    row = measure(
        "POST /api/v1/conversations/rasa-events (seq)",
        batches,
        lambda i: service.post(
            "/api/v1/conversations/rasa-events", json=bodies[i] if i >= 0 else ingest_body(rng)
        ),
    )
    seconds = time.perf_counter() - start
    row.extra = f"{batches * 50 / seconds:,.0f} events/s"
    add(row)
    bodies = [ingest_body(rng) for _ in range(batches * 2)]
    ms, codes, seconds = asyncio.run(ingest_concurrent(base, bodies, concurrency))
    if any(c != 200 for c in codes):
        print(f"  ! concurrent ingest: status {codes}", flush=True)
    add(
        Row(
            f"POST .../rasa-events ({concurrency} clients)",
            ms,
            codes,
            f"{len(bodies) * 50 / seconds:,.0f} events/s",
        )
    )
    for client in (cw, cw_helmond, reviewer, api_cw, api_rv, service):
        client.close()
    return rows


def print_table(rows: list[Row]) -> None:
    print(f"\n{'route':<50} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  status / rate")
    print("-" * 104)
    for r in rows:
        codes = ",".join(f"{c}x{k}" for c, k in sorted(r.codes.items()))
        flag = "  << p95 > 500 ms" if r.p95 > SLOW_MS else ""
        print(
            f"{r.label:<50} {len(r.ms):>4} {statistics.median(r.ms):>8.1f} {r.p95:>8.1f} "
            f"{max(r.ms):>8.1f}  {codes} {r.extra}{flag}"
        )


# --- database -----------------------------------------------------------------------------------


def create_pg_database() -> str:
    name = f"voordeur_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def backend_of(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = conn.scalar(text("SHOW server_version"))
            desc = f"PostgreSQL {version}"
        else:
            desc = f"SQLite {conn.scalar(text('select sqlite_version()'))}"
        counted = conn.scalar(select(func.count()).select_from(Handover))
    engine.dispose()
    return f"{desc} ({counted} handovers)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handovers", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--reps", type=int, default=20, help="requests per measured route")
    parser.add_argument("--batches", type=int, default=40, help="ingest batches (sequential)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"a throwaway database on {PG_SERVER}, dropped afterwards",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="voordeur-bench-"))
    throwaway = None
    if args.postgres:
        url = throwaway = create_pg_database()
    else:
        url = os.environ.get("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    env = api_env(url)
    try:
        migrate(env)
        started = time.perf_counter()
        seeded = seed(url, args.handovers, args.conversations, random.Random(42))
        seed_seconds = time.perf_counter() - started
        with start_api(env, run_migrations=False) as api:
            print(
                f"staff workspace benchmark: {platform.machine()} {os.cpu_count()} cores, "
                f"Python {platform.python_version()}, 1 uvicorn worker, "
                f"database {backend_of(url)}"
            )
            print(f"seeded in {seed_seconds:.1f} s:")
            for name, count in seeded.sizes.items():
                print(f"  {name:<30} {count:>8}")
            print(
                f"{args.reps} requests per route (after 2 warm-up requests), one client at a time:"
            )
            rows = run(api.base, seeded, args.reps, args.batches, args.concurrency)
        print_table(rows)
        slow = [r.label for r in rows if r.p95 > SLOW_MS]
        print(f"\nroutes with p95 > {SLOW_MS:.0f} ms: {', '.join(slow) if slow else 'none'}")
    finally:
        if throwaway:
            drop_pg_database(throwaway)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
