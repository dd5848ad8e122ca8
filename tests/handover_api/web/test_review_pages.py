"""Front-office pages: /staff/gesprekken (list, detail, marks, export) and /staff/statistieken."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, Conversation, ConversationEvent, ReviewMark
from handover_api.services import users
from handover_api.services.redaction import redact

Headers = dict[str, str]
Create = Callable[..., dict[str, Any]]
# (sender, text, intent, confidence, fallback)
Message = tuple[str, str, str | None, float | None, bool]

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def add_conversation(
    session: Session,
    *,
    cid: str | None = None,
    municipality: str | None = "GM0794",
    channel: str = "web",
    at: datetime = T0,
    messages: Sequence[Message] = (),
) -> tuple[Conversation, list[ConversationEvent]]:
    """Insert a conversation and its messages (one second apart), counters filled in, texts
    redacted as the ingest stores them."""
    cid = cid or f"c-{uuid.uuid4().hex[:10]}"
    user_msgs = [m for m in messages if m[0] == "user"]
    confidences = [m[3] for m in user_msgs if m[3] is not None]
    conversation = Conversation(
        id=cid,
        sender_key=uuid.uuid4().hex,
        municipality_code=municipality,
        channel=channel,
        started_at=at,
        last_at=at + timedelta(seconds=max(len(messages) - 1, 0)),
        user_messages=len(user_msgs),
        fallbacks=sum(1 for m in user_msgs if m[4]),
        low_confidence=sum(1 for c in confidences if c < 0.5),
        min_confidence=min(confidences) if confidences else None,
    )
    session.add(conversation)
    events = [
        ConversationEvent(
            conversation_id=cid,
            event_id=f"e{i}",
            sender=sender,
            text=redact(text),  # the review log stores texts redacted (conversation_log)
            at=at + timedelta(seconds=i),
            intent=intent,
            confidence=confidence,
            fallback=fallback,
        )
        for i, (sender, text, intent, confidence, fallback) in enumerate(messages)
    ]
    session.add_all(events)
    session.commit()
    return conversation, events


def make_user(session: Session, organisation: str, *, role: str = "reviewer") -> str:
    """A user of ``organisation`` with ``role``; returns its token."""
    user = users.create_user(
        session,
        username=f"{role}-{organisation}-{uuid.uuid4().hex[:6]}",
        organisation=organisation,
        display_name=f"Frontoffice {organisation}",
        role=role,
    )
    token = users.issue_token(session, user=user)
    session.commit()
    return token


def csrf_of(html: str) -> str:
    found = set(CSRF_RE.findall(html))
    assert len(found) == 1, found
    return found.pop()


def login(client: TestClient, token: str, *, home: str = "/staff/gesprekken") -> str:
    """Log in through the form; returns the session's CSRF token (from the dashboard, which
    both roles may open)."""
    form = client.get("/staff/login").text
    response = client.post(
        "/staff/login",
        data={"token": token, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == home
    return csrf_of(client.get("/staff/statistieken").text)


HELMOND: list[Message] = [
    ("user", "hoi ik wil bijstand, bel me op 06-12345678", "ask_bijstand", 0.42, False),
    ("bot", "Ik kan u helpen met bijstand.", None, None, False),
    ("user", "wat moet ik doen met de deurwaarder", "nlu_fallback", 0.21, True),
    ("bot", "Sorry, dat begreep ik niet.", None, None, True),
]


def test_reviewer_sees_only_conversations_of_served_municipalities(
    client: TestClient, session: Session
) -> None:
    helmond, _ = add_conversation(session, messages=HELMOND)
    deurne, _ = add_conversation(session, municipality="GM0762", at=T0 + timedelta(hours=1))
    velsen, _ = add_conversation(session, municipality="GM0453")
    unknown, _ = add_conversation(session, municipality=None)

    login(client, make_user(session, "peel61"))  # regional: the Peel municipalities
    page = client.get("/staff/gesprekken")
    assert page.status_code == 200
    assert helmond.id in page.text and deurne.id in page.text
    assert velsen.id not in page.text and unknown.id not in page.text
    assert page.text.index(deurne.id) < page.text.index(helmond.id)  # newest first
    assert "2× niet begrepen" not in page.text and "1× niet begrepen" in page.text
    assert 'href="/staff/gesprekken/export.yml"' in page.text
    listed = session.scalars(select(AuditLog).where(AuditLog.action == "conversation.list")).all()
    assert listed and set(listed[-1].detail["conversation_ids"]) == {helmond.id, deurne.id}  # type: ignore[index]

    client.cookies.clear()
    login(client, make_user(session, "gemeente-helmond"))  # municipal: its own only
    page = client.get("/staff/gesprekken")
    assert helmond.id in page.text and deurne.id not in page.text


def test_every_input_has_a_label(client: TestClient, session: Session) -> None:
    login(client, make_user(session, "peel61"))
    html = client.get("/staff/gesprekken").text
    for field_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html):
        assert f'<label for="{field_id}"' in html, field_id
    assert "<script" not in html


def test_filters_and_search(
    client: TestClient, session: Session, create_handover: Create, service_headers: Headers
) -> None:
    with_fallback, _ = add_conversation(session, messages=HELMOND)
    quiet, _ = add_conversation(
        session,
        channel="sms",
        at=T0 + timedelta(days=3),
        messages=[("user", "Ik zoek werk in Helmond", "ask_werk", 0.93, False)],
    )
    handed = create_handover(conversation_id=with_fallback.id)
    login(client, make_user(session, "peel61"))

    def ids(**params: str) -> set[str]:
        html = client.get("/staff/gesprekken", params=params).text
        return {c for c in (with_fallback.id, quiet.id) if c in html}

    assert ids(fallback="ja") == {with_fallback.id}
    assert ids(fallback="nee") == {quiet.id}
    assert ids(overdracht="ja") == {with_fallback.id}
    assert ids(overdracht="nee") == {quiet.id}
    assert ids(onzeker="ja") == {with_fallback.id}
    assert ids(kanaal="sms") == {quiet.id}
    assert ids(van="2025-03-06") == {quiet.id}
    assert ids(tot="2025-03-05") == {with_fallback.id}
    assert ids(q=handed["reference"].lower()) == {with_fallback.id}
    assert ids(q=quiet.id[2:8]) == {quiet.id}
    assert ids(q="deurwaarder") == {with_fallback.id}
    assert ids(q="werk in helmond") == {quiet.id}
    # the stored phone number is redacted on screen, so it cannot be searched for either
    assert ids(q="06-12345678") == set()
    assert ids(q="%") == set()  # LIKE wildcards are literal
    page = client.get("/staff/gesprekken", params={"overdracht": "ja"})
    assert handed["reference"] in page.text
    bad = client.get("/staff/gesprekken", params={"van": "gisteren", "kanaal": "fax"})
    assert bad.status_code == 422 and "jjjj-mm-dd" in bad.text and "Kanaal" in bad.text


def test_detail_is_redacted_with_intent_confidence_and_audited(
    client: TestClient, session: Session, create_handover: Create
) -> None:
    conversation, events = add_conversation(session, messages=HELMOND)
    handed = create_handover(conversation_id=conversation.id)
    login(client, make_user(session, "peel61"))
    page = client.get(f"/staff/gesprekken/{conversation.id}")
    assert page.status_code == 200
    assert "06-12345678" not in page.text and "[telefoon]" in page.text
    assert "ask_bijstand · 0,42" in page.text
    assert "⚠ Onzeker" in page.text  # not only by colour
    assert "de assistent gaf het terugvalantwoord" in page.text
    assert "Terugvalantwoord</span>" in page.text  # the bot's fallback reply
    assert "04-03-2025 10:00" in page.text  # 09:00 UTC is 10:00 in Amsterdam (CET)
    assert handed["reference"] in page.text and "/staff/handovers/" not in page.text
    assert f'id="intentie-{events[0].id}"' in page.text
    assert f'<label for="intentie-{events[0].id}">' in page.text
    assert f'id="intentie-{events[1].id}"' not in page.text  # bot messages are not marked
    assert '<option value="ask_bijstand"' in page.text and "withdraw_consent" in page.text
    read = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "conversation.read", AuditLog.resource_id == conversation.id
        )
    ).all()
    assert len(read) == 1 and read[0].detail == {"view": "redacted", "via": "staff-page"}


def test_other_municipality_is_a_dutch_404(client: TestClient, session: Session) -> None:
    velsen, _ = add_conversation(session, municipality="GM0453", messages=HELMOND)
    login(client, make_user(session, "gemeente-helmond"))
    for path in (f"/staff/gesprekken/{velsen.id}", "/staff/gesprekken/c-bestaat-niet"):
        page = client.get(path)
        assert page.status_code == 404 and "Dit gesprek bestaat niet" in page.text
        assert "[telefoon]" not in page.text


def test_mark_change_and_unmark(client: TestClient, session: Session) -> None:
    conversation, events = add_conversation(session, messages=HELMOND)
    csrf = login(client, make_user(session, "peel61"))
    url = f"/staff/gesprekken/{conversation.id}/berichten/{events[2].id}/markering"

    missing = client.post(url, data={"correct_intent": "ask_schuldhulp"})
    assert missing.status_code == 403 and "verlopen" in missing.text
    assert session.scalars(select(ReviewMark)).first() is None

    done = client.post(
        url, data={"correct_intent": "ask_schuldhulp", "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#bericht-{events[2].id}")
    mark = session.scalars(select(ReviewMark)).one()
    assert (mark.event_id, mark.correct_intent, mark.organisation) == (
        events[2].id,
        "ask_schuldhulp",
        "peel61",
    )
    page = client.get(f"/staff/gesprekken/{conversation.id}").text
    assert "Gemarkeerd als niet begrepen" in page and "Markering weghalen" in page

    client.post(url, data={"correct_intent": "describe_situation", "csrf_token": csrf})
    session.expire_all()
    assert [m.correct_intent for m in session.scalars(select(ReviewMark))] == ["describe_situation"]

    wrong = client.post(url, data={"correct_intent": "geen_intent", "csrf_token": csrf})
    assert wrong.status_code == 422 and "Kies in de lijst" in wrong.text
    bot = client.post(
        f"/staff/gesprekken/{conversation.id}/berichten/{events[1].id}/markering",
        data={"correct_intent": "ask_bijstand", "csrf_token": csrf},
    )
    assert bot.status_code == 404

    gone = client.post(f"{url}/verwijderen", data={"csrf_token": csrf}, follow_redirects=False)
    assert gone.status_code == 303
    session.expire_all()
    assert session.scalars(select(ReviewMark)).first() is None
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.action.like("review.%")).order_by(AuditLog.id)
    ).all()
    assert actions == ["review.mark", "review.mark", "review.unmark"]


def test_marking_another_municipalitys_message_is_refused(
    client: TestClient, session: Session
) -> None:
    velsen, events = add_conversation(session, municipality="GM0453", messages=HELMOND)
    csrf = login(client, make_user(session, "gemeente-helmond"))
    response = client.post(
        f"/staff/gesprekken/{velsen.id}/berichten/{events[0].id}/markering",
        data={"correct_intent": "ask_bijstand", "csrf_token": csrf},
    )
    assert response.status_code == 404
    assert session.scalars(select(ReviewMark)).first() is None


def test_export_download_on_the_page(client: TestClient, session: Session) -> None:
    conversation, events = add_conversation(session, messages=HELMOND)
    csrf = login(client, make_user(session, "peel61"))
    client.post(
        f"/staff/gesprekken/{conversation.id}/berichten/{events[0].id}/markering",
        data={"correct_intent": "apply", "csrf_token": csrf},
    )
    response = client.get("/staff/gesprekken/export.yml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/yaml")
    assert "attachment" in response.headers["content-disposition"]
    data = yaml.safe_load(response.text)
    assert data == {
        "version": "3.1",
        "nlu": [{"intent": "apply", "examples": "- hoi ik wil bijstand, bel me op [telefoon]\n"}],
    }


def test_roles_keep_to_their_pages(client: TestClient, session: Session) -> None:
    login(client, make_user(session, "peel61", role="staff"), home="/staff/inbox")
    refused = client.get("/staff/gesprekken")
    assert refused.status_code == 403 and "andere rol" in refused.text
    assert client.get("/staff/gesprekken/export.yml").status_code == 403
    assert client.get("/staff/statistieken").status_code == 200

    client.cookies.clear()
    login(client, make_user(session, "peel61"))
    refused = client.get("/staff/inbox")
    assert refused.status_code == 403 and "andere rol" in refused.text
    assert client.get("/staff/statistieken").status_code == 200

    client.cookies.clear()
    for path in ("/staff/gesprekken", "/staff/statistieken", "/staff/gesprekken/export.yml"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_statistics_page_has_accessible_charts(
    client: TestClient, session: Session, create_handover: Create
) -> None:
    now = datetime.now(UTC)
    conversation, _ = add_conversation(session, at=now - timedelta(days=1), messages=HELMOND)
    create_handover(conversation_id=conversation.id)
    login(client, make_user(session, "peel61"))
    page = client.get("/staff/statistieken")
    assert page.status_code == 200
    html = page.text
    # per day, per destination, per life domain, events per kind, misunderstood intents
    assert html.count('role="img"') == 5 and "<desc id=" in html and "aria-label=" in html
    assert "<caption>Overdrachten per ontvanger</caption>" in html and "<td>Senzer</td>" in html
    assert "<script" not in html
    assert "feestdagen niet meegeteld" in html
    for field_id in re.findall(r'<input[^>]*\bid="([^"]+)"', html):
        assert f'<label for="{field_id}"' in html
    wrong = client.get("/staff/statistieken", params={"van": "2025-03-10", "tot": "2025-03-01"})
    assert wrong.status_code == 422 and "De periode klopt niet" in wrong.text
