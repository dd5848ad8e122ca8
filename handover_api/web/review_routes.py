"""Front-office pages: conversation review (/staff/gesprekken) and the dashboard
(/staff/statistieken). Same session, CSRF and error pages as ``web/routes.py``.

- ``GET /staff/gesprekken``: the conversations of the municipalities the reviewer's
  organisation serves, newest first, 25 a page; search (``q``: conversation id, a handover's
  reference, or text in the redacted messages) and filters (``fallback``, ``overdracht``,
  ``onzeker``: ja/nee; ``kanaal``; ``van``/``tot``: dates). The list is audited (ids only).
- ``GET /staff/gesprekken/export.yml``: the organisation's corrections as Rasa NLU YAML.
- ``GET /staff/gesprekken/{id}``: every message redacted, in Amsterdam time, with intent and
  confidence; each read is audited. Another municipality's conversation is a Dutch 404 page.
- ``POST /staff/gesprekken/{id}/berichten/{event}/markering`` (``correct_intent``) marks a
  resident message as misunderstood (again: changes it);
  ``.../markering/verwijderen`` takes the mark away. Both CSRF-checked.
- ``GET /staff/statistieken`` (case workers and reviewers): figures and SVG charts.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from handover_api.api.deps import DirectoryDep, SessionDep, SettingsDep
from handover_api.api.routes.reviews import export_response
from handover_api.models import CHANNELS, Conversation, Handover
from handover_api.services import audit, reviews, stats
from handover_api.services.conversation_log import LOW_CONFIDENCE
from handover_api.services.directory import Directory
from handover_api.services.errors import ServiceError
from handover_api.services.principals import Principal
from handover_api.web import charts
from handover_api.web.routes import (
    DOMAIN_LABELS,
    AnyPageUser,
    ReviewerFormUser,
    ReviewerPageUser,
    StaffPageError,
    StaffRoute,
    _page,
)

router = APIRouter(prefix="/staff", include_in_schema=False, route_class=StaffRoute)

PAGE_SIZE = 25
NOT_FOUND_CONVERSATION = (
    "Dit gesprek bestaat niet of hoort niet bij een gemeente waarvoor uw organisatie werkt."
)
YES_NO = {"": None, "ja": True, "nee": False}

ConversationId = Annotated[str, Path(min_length=1, max_length=200)]
EventId = Annotated[int, Path(ge=1, le=2**62)]
FilterText = Annotated[str, Query(max_length=200)]


def confidence_text(value: float | None) -> str:
    """A confidence the Dutch way: 0,42."""
    return "–" if value is None else f"{value:.2f}".replace(".", ",")


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _date(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label}: vul een datum in als jjjj-mm-dd.")
        return None


def _choice(value: str, label: str, errors: list[str]) -> bool | None:
    if value in YES_NO:
        return YES_NO[value]
    errors.append(f"{label}: kies ja, nee of alle.")
    return None


def own_conversation(
    conversation_id: ConversationId,
    session: SessionDep,
    directory: DirectoryDep,
    user: ReviewerPageUser,
) -> Conversation:
    """The conversation when the user's organisation serves its municipality; a 404 page
    otherwise (also for a conversation that does exist elsewhere: nothing leaks)."""
    conversation = reviews.get_for_organisation(
        session,
        directory=directory,
        organisation=user.organisation,
        conversation_id=conversation_id,
    )
    if conversation is None:
        raise StaffPageError(status.HTTP_404_NOT_FOUND, NOT_FOUND_CONVERSATION)
    return conversation


OwnConversation = Annotated[Conversation, Depends(own_conversation)]


@router.get("/gesprekken", response_class=HTMLResponse)
def conversations(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: ReviewerPageUser,
    q: FilterText = "",
    fallback: FilterText = "",
    overdracht: FilterText = "",
    onzeker: FilterText = "",
    kanaal: FilterText = "",
    van: FilterText = "",
    tot: FilterText = "",
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    assert user.organisation is not None
    errors: list[str] = []
    if kanaal and kanaal not in CHANNELS:
        errors.append("Kanaal: kies een kanaal uit de lijst.")
    filters = reviews.ConversationFilter(
        q=q.strip(),
        fallback=_choice(fallback, "Terugvalantwoord", errors),
        handover=_choice(overdracht, "Overdracht", errors),
        low_confidence=_choice(onzeker, "Onzekere herkenning", errors),
        channel=kanaal if kanaal in CHANNELS else None,
        date_from=_date(van, "Van", errors),
        date_to=_date(tot, "Tot en met", errors),
    )
    rows, total = reviews.list_conversations(
        session,
        directory=directory,
        organisation=user.organisation,
        filters=filters,
        page=pagina,
        page_size=PAGE_SIZE,
    )
    audit.record_conversation_list(
        session,
        actor=user.actor,
        organisation=user.organisation,
        filters={**filters.audit_detail(), "page": pagina},
        conversation_ids=[r.id for r in rows],
        via="staff-page",
    )
    session.commit()
    params = {
        "q": q,
        "fallback": fallback,
        "overdracht": overdracht,
        "onzeker": onzeker,
        "kanaal": kanaal,
        "van": van,
        "tot": tot,
    }
    kept = {k: v for k, v in params.items() if v}

    def page_url(number: int) -> str:
        return "/staff/gesprekken?" + urlencode({**kept, "pagina": number})

    return _page(
        request,
        "gesprekken.html",
        {
            "rows": rows,
            "total": total,
            "page": pagina,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "page_url": page_url,
            "params": params,
            "filtered": bool(kept),
            "errors": errors,
            "channels": CHANNELS,
            "low_confidence": LOW_CONFIDENCE,
            "confidence_text": confidence_text,
        },
        status_code=422 if errors else 200,
    )


@router.get("/gesprekken/export.yml")
def export_corrections(request: Request, session: SessionDep, user: ReviewerPageUser) -> Response:
    """The corrections as a YAML download (the same file as ``GET /api/v1/reviews/export``)."""
    assert user.organisation is not None
    text, examples = reviews.export_nlu(session, principal=user, via="staff-page")
    session.commit()
    response = export_response(text, examples, user.organisation)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _references(
    session: SessionDep, directory: Directory, conversation: Conversation
) -> list[dict[str, str]]:
    rows = session.execute(
        select(Handover.reference, Handover.destination_organisation, Handover.destination_team)
        .where(Handover.conversation_id == conversation.id)
        .order_by(Handover.created_at)
    ).all()
    return [
        {"reference": ref, "destination": directory.display_name(org, team)}
        for ref, org, team in rows
    ]


def _detail(
    request: Request,
    session: SessionDep,
    directory: Directory,
    user: Principal,
    conversation: Conversation,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    found = reviews.read_conversation(
        session,
        directory=directory,
        principal=user,
        conversation_id=conversation.id,
        via="staff-page",
    )
    assert found is not None
    _, messages = found
    session.commit()
    municipality = directory.municipality(conversation.municipality_code or "")
    return _page(
        request,
        "gesprek.html",
        {
            "c": conversation,
            "municipality_name": municipality.name if municipality else "",
            "messages": messages,
            "references": _references(session, directory, conversation),
            "intents": reviews.intent_choices(),
            "low_confidence": LOW_CONFIDENCE,
            "confidence_text": confidence_text,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/gesprekken/{conversation_id}", response_class=HTMLResponse)
def conversation_detail(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: ReviewerPageUser,
    conversation: OwnConversation,
) -> Response:
    return _detail(request, session, directory, user, conversation)


def _after_mark(conversation: Conversation, event_id: int) -> Response:
    return RedirectResponse(
        f"/staff/gesprekken/{conversation.id}#bericht-{event_id}",
        status_code=status.HTTP_303_SEE_OTHER,
    )


@router.post("/gesprekken/{conversation_id}/berichten/{event_id}/markering")
def mark(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: ReviewerFormUser,
    conversation: OwnConversation,
    event_id: EventId,
    correct_intent: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        reviews.mark_message(
            session,
            conversation=conversation,
            event_id=event_id,
            correct_intent=correct_intent,
            principal=user,
        )
    except ServiceError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise StaffPageError(404, "Dit bericht staat niet in dit gesprek.") from exc
        return _detail(
            request,
            session,
            directory,
            user,
            conversation,
            error="Kies in de lijst de intentie die de inwoner bedoelde.",
            status_code=422,
        )
    session.commit()
    return _after_mark(conversation, event_id)


@router.post("/gesprekken/{conversation_id}/berichten/{event_id}/markering/verwijderen")
def unmark(
    session: SessionDep,
    user: ReviewerFormUser,
    conversation: OwnConversation,
    event_id: EventId,
) -> Response:
    try:
        reviews.unmark_message(
            session, conversation=conversation, event_id=event_id, principal=user
        )
    except ServiceError as exc:
        session.rollback()
        raise StaffPageError(404, "Dit bericht staat niet in dit gesprek.") from exc
    session.commit()
    return _after_mark(conversation, event_id)


@router.get("/statistieken", response_class=HTMLResponse)
def statistics_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    user: AnyPageUser,
    van: FilterText = "",
    tot: FilterText = "",
) -> Response:
    assert user.organisation is not None
    errors: list[str] = []
    date_from = _date(van, "Van", errors)
    date_to = _date(tot, "Tot en met", errors)
    try:
        figures = stats.compute(
            session,
            directory=directory,
            organisation=user.organisation,
            date_from=date_from,
            date_to=date_to,
            domain_labels=DOMAIN_LABELS,
        )
    except stats.StatsError:
        errors.append(
            "De periode klopt niet: 'van' moet vóór 'tot en met' liggen, hoogstens een jaar."
        )
        figures = stats.compute(
            session,
            directory=directory,
            organisation=user.organisation,
            domain_labels=DOMAIN_LABELS,
        )
    context: dict[str, Any] = {
        "s": figures,
        "van": van or figures.date_from.isoformat(),
        "tot": tot or figures.date_to.isoformat(),
        "errors": errors,
        "percent_text": percent_text,
        "duration_text": stats.duration_text,
        "chart_per_day": charts.daily_chart(
            [(d.day, d.count) for d in figures.per_day],
            title="Gesprekken per dag",
            chart_id="grafiek-per-dag",
        ),
        "chart_destination": charts.bar_chart(
            [(c.label, c.count) for c in figures.per_destination],
            title="Overdrachten per ontvanger",
            chart_id="grafiek-ontvanger",
        ),
        "chart_domain": charts.bar_chart(
            [(c.label, c.count) for c in figures.per_life_domain],
            title="Overdrachten per leefgebied",
            chart_id="grafiek-leefgebied",
        ),
        "chart_misunderstood": charts.bar_chart(
            [(c.label, c.count) for c in figures.misunderstood],
            title="Vaakst verkeerd begrepen intenties",
            chart_id="grafiek-intenties",
        ),
        "chart_events": charts.bar_chart(
            [(c.label, c.count) for c in figures.events],
            title="Wat er met de overdrachten gebeurde",
            chart_id="grafiek-gebeurtenissen",
        ),
    }
    return _page(request, "statistieken.html", context, status_code=422 if errors else 200)
