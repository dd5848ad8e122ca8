"""Staff pages under /staff/ (server-rendered, Dutch, autoescaped).

Log in with a staff bearer token: it is kept in an HttpOnly, SameSite=Strict cookie scoped to
/staff. Pages: inbox (handovers for the user's organisation), handover detail (summary,
contact, life domains, redacted transcript, notes) with status change and a note form.
Form posts are also refused when an ``Origin`` header names another host.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from handover_api.api.deps import SessionDep, SettingsDep
from handover_api.contract import LIFE_DOMAIN_CODES
from handover_api.schemas import DestinationIn, HandoverUpdate, Level, Priority, Status
from handover_api.services import audit, conversations, handovers
from handover_api.services.errors import ServiceError
from handover_api.services.principals import Principal, authenticate

COOKIE = "voordeur_staff"
COOKIE_MAX_AGE = 8 * 3600

STATUS_LABELS = {
    "new": "Nieuw",
    "claimed": "Opgepakt",
    "in_progress": "In behandeling",
    "returned": "Teruggelegd",
    "closed": "Afgesloten",
}
ACTION_LABELS = {
    "new": "Vrijgeven",
    "claimed": "Oppakken",
    "in_progress": "In behandeling nemen",
    "closed": "Afsluiten",
}
PRIORITY_LABELS = {"normal": "Normaal", "urgent": "Spoed"}
LEVEL_LABELS = {"regional": "Regionaal (werk en inkomen)", "local": "Lokaal (wijkteam / WMO)"}
CHANNEL_LABELS = {
    "web": "Webchat",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "rest": "API",
    "shell": "Test",
}
CONTACT_LABELS = {
    "phone": "Bellen",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "email": "E-mail",
    "chat": "Via de chat",
}
DOMAIN_LABELS = {code: code.replace("_", " ").capitalize() for code in LIFE_DOMAIN_CODES} | {
    "adl": "Algemene dagelijkse levensverrichtingen (ADL)",
    "werk_opleiding": "Werk en opleiding",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_env.globals.update(
    STATUS_LABELS=STATUS_LABELS,
    ACTION_LABELS=ACTION_LABELS,
    PRIORITY_LABELS=PRIORITY_LABELS,
    LEVEL_LABELS=LEVEL_LABELS,
    CHANNEL_LABELS=CHANNEL_LABELS,
    CONTACT_LABELS=CONTACT_LABELS,
    DOMAIN_LABELS=DOMAIN_LABELS,
)
_env.filters["datum"] = lambda value: value.strftime("%d-%m-%Y %H:%M UTC") if value else ""
templates = Jinja2Templates(env=_env)

router = APIRouter(prefix="/staff", include_in_schema=False)


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""


async def login_required_handler(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/staff/login", status_code=status.HTTP_303_SEE_OTHER)


def _principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    principal = authenticate(
        session, token=token, service_token=settings.VOORDEUR_SERVICE_TOKEN.get_secret_value()
    )
    if principal is None or not principal.is_staff or not principal.organisation:
        return None
    return principal


def require_page_user(
    principal: Annotated[Principal | None, Depends(_principal)],
) -> Principal:
    if principal is None:
        raise LoginRequired
    return principal


PageUser = Annotated[Principal, Depends(require_page_user)]


def same_origin(request: Request) -> None:
    """Refuse form posts whose Origin names another host (SameSite=Strict is the main guard)."""
    origin = request.headers.get("origin")
    if origin and (origin == "null" or urlsplit(origin).netloc != request.url.netloc):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="cross-site request")


SameOrigin = Annotated[None, Depends(same_origin)]


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def index(principal: Annotated[Principal | None, Depends(_principal)]) -> Response:
    target = "/staff/inbox" if principal else "/staff/login"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _page(request, "login.html", {"error": None, "user": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _origin: SameOrigin,
    token: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    principal = authenticate(
        session,
        token=token.strip(),
        service_token=settings.VOORDEUR_SERVICE_TOKEN.get_secret_value(),
    )
    if principal is None or not principal.is_staff:
        return _page(
            request,
            "login.html",
            {"error": "Deze toegangscode is onbekend of ingetrokken.", "user": None},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    response = RedirectResponse("/staff/inbox", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token.strip(),
        max_age=COOKIE_MAX_AGE,
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
    )
    return response


@router.post("/logout")
def logout(_origin: SameOrigin) -> Response:
    response = RedirectResponse("/staff/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/staff", httponly=True, samesite="strict")
    return response


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    user: PageUser,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    priority: Priority | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    assert user.organisation is not None
    page_size = 25
    items, total = handovers.list_handovers(
        session,
        organisation=user.organisation,
        status=status_,
        priority=priority,
        page=page,
        page_size=page_size,
    )
    return _page(
        request,
        "inbox.html",
        {
            "user": user,
            "items": [handovers.to_out(h) for h in items],
            "total": total,
            "page": page,
            "pages": max(1, -(-total // page_size)),
            "status": status_ or "",
            "priority": priority or "",
        },
    )


def _detail_context(session: SessionDep, user: Principal, handover_id: uuid.UUID) -> dict[str, Any]:
    handover = handovers.get_for_organisation(
        session, handover_id=handover_id, organisation=user.organisation
    )
    if handover is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Niet gevonden")
    events = conversations.load_events(session, conversation_id=handover.conversation_id)
    audit.record_handover_read(
        session,
        actor=user.actor,
        handover_id=str(handover.id),
        conversation_id=handover.conversation_id,
        via="staff-page",
    )
    session.commit()
    return {
        "user": user,
        "h": handovers.to_out(handover),
        "notes": handovers.notes_out(handover),
        "transcript": conversations.transcript_view(events, redacted=True),
        "transitions": sorted(t for t in handovers.TRANSITIONS[handover.status] if t != "returned"),
        "can_return": "returned" in handovers.TRANSITIONS[handover.status],
        "error": None,
    }


@router.get("/handovers/{handover_id}", response_class=HTMLResponse)
def detail(
    request: Request, handover_id: uuid.UUID, session: SessionDep, user: PageUser
) -> Response:
    return _page(request, "detail.html", _detail_context(session, user, handover_id))


@router.post("/handovers/{handover_id}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    handover_id: uuid.UUID,
    session: SessionDep,
    user: PageUser,
    _origin: SameOrigin,
    status_: Annotated[Status, Form(alias="status")],
    reason: Annotated[str, Form(max_length=1000)] = "",
    level: Annotated[Level | None, Form()] = None,
    organisation: Annotated[str, Form(max_length=100)] = "",
    team: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    handover = handovers.get_for_organisation(
        session, handover_id=handover_id, organisation=user.organisation
    )
    if handover is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Niet gevonden")
    try:
        destination = (
            DestinationIn(level=level, organisation=organisation.strip(), team=team.strip())
            if status_ == "returned" and level and organisation.strip() and team.strip()
            else None
        )
        update = HandoverUpdate(
            status=status_, reason=reason.strip() or None, destination=destination
        )
        handovers.change_status(session, handover=handover, update=update, principal=user)
    except (ServiceError, ValueError) as exc:
        session.rollback()
        context = _detail_context(session, user, handover_id)
        context["error"] = _dutch_error(exc)
        return _page(request, "detail.html", context, status_code=_status_of(exc))
    return RedirectResponse(
        f"/staff/handovers/{handover_id}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.post("/handovers/{handover_id}/notes", response_class=HTMLResponse)
def add_note(
    request: Request,
    handover_id: uuid.UUID,
    session: SessionDep,
    user: PageUser,
    _origin: SameOrigin,
    text: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    handover = handovers.get_for_organisation(
        session, handover_id=handover_id, organisation=user.organisation
    )
    if handover is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Niet gevonden")
    if not text.strip():
        context = _detail_context(session, user, handover_id)
        context["error"] = "Een notitie mag niet leeg zijn."
        return _page(request, "detail.html", context, status_code=422)
    handovers.add_note(session, handover=handover, text=text, principal=user)
    return RedirectResponse(
        f"/staff/handovers/{handover_id}#notities", status_code=status.HTTP_303_SEE_OTHER
    )


def _status_of(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, ServiceError) else 422


def _dutch_error(exc: Exception) -> str:
    if isinstance(exc, ServiceError) and exc.status_code == 409:
        return "Deze statuswijziging is niet toegestaan."
    message = exc.message if isinstance(exc, ServiceError) else str(exc)
    if "reason" in message:
        return "Geef een reden op om de overdracht terug te leggen."
    if "destination" in message or "organisation" in message:
        return "Kies een andere organisatie en team om de overdracht naar terug te leggen."
    return "De wijziging kon niet worden opgeslagen. Controleer de invoer."
