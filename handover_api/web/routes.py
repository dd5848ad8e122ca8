"""Staff pages under /staff/ (server-rendered, Dutch, autoescaped).

How a case worker's visit works, and why it is safe in a real browser:

1. ``GET /staff/login`` shows the login form with a signed pre-session CSRF value, both in a
   cookie and in a hidden field (double submit: another site can neither read nor forge it).
2. ``POST /staff/login`` with the personal token (what ``./voordeur user`` prints) opens a
   server-side session (``services.sessions``); the ``voordeur_staff`` cookie holds only the
   random session id (HttpOnly, SameSite=Strict, path /staff, Secure in production).
3. Every page resolves that session: it ends after inactivity, after a maximum duration, on
   logout, and with its token (revoked or expired). No session: redirect to the login page.
4. Every form carries the session's CSRF token in a hidden field; every POST checks it and
   refuses a request whose ``Origin`` (or ``Sec-Fetch-Site``) names another site, with a Dutch
   403 page. Pages send ``Referrer-Policy: same-origin``: with ``no-referrer`` Chromium posts
   same-origin forms with ``Origin: null``, which made every form fail before.
5. Errors (403, 404, 422) are Dutch HTML pages, not JSON: the router's route class turns
   ``HTTPException`` and validation errors into ``error.html``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session

from handover_api.api.deps import DirectoryDep, SessionDep, SettingsDep
from handover_api.contract import LIFE_DOMAIN_CODES
from handover_api.core.config import Settings
from handover_api.core.security import (
    LOGIN_CSRF_MAX_AGE_SECONDS,
    derive_key,
    login_csrf_valid,
    new_login_csrf,
    session_csrf_token,
    tokens_equal,
)
from handover_api.models import CALL_OUTCOMES, LEVELS, PRIORITIES, Handover, utcnow
from handover_api.schemas import (
    CallAttemptCreate,
    DestinationIn,
    HandoverEventOut,
    HandoverUpdate,
    Status,
)
from handover_api.services import (
    applications,
    audit,
    call_attempts,
    events,
    handovers,
    media,
    messaging,
    notifications,
    sessions,
)
from handover_api.services.directory import Directory
from handover_api.services.directory import current as current_directory
from handover_api.services.errors import ServiceError
from handover_api.services.principals import Principal

COOKIE = "voordeur_staff"
LOGIN_CSRF_COOKIE = "voordeur_login_csrf"
CSRF_FIELD = "csrf_token"
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")

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
CRISIS_LABELS = {
    "suicidaliteit": "Suïcidaliteit",
    "huiselijk_geweld": "Huiselijk geweld",
    "acute_dakloosheid": "Acute dakloosheid",
    "medisch_spoed": "Medische spoed",
    "onbekend": "Crisis (soort onbekend)",
}
OUTCOME_LABELS = call_attempts.OUTCOME_LABELS
# The inbox's status tabs: "open" (new, claimed, in progress) besides the statuses.
INBOX_STATUS_LABELS = {"open": "Open"} | STATUS_LABELS
ASSIGNED_LABELS = {"me": "Mijn zaken", "none": "Niet toegewezen"}
# Messages with the resident (section "Berichten met de inwoner"): delivery status in Dutch.
MESSAGE_STATUS_LABELS = {
    "queued": "verstuurd",
    "sent": "verstuurd",
    "delivered": "afgeleverd",
    "read": "gelezen",
    "undelivered": "niet afgeleverd",
    "failed": "mislukt",
    "received": "ontvangen",
    "not_sent": "niet verstuurd",
}
# The web chat: a message waits ("queued") until the resident's open chat picks it up.
WEBCHAT_STATUS_LABELS = MESSAGE_STATUS_LABELS | {
    "queued": "wacht op de open chat van de inwoner",
    "delivered": "afgeleverd in de chat van de inwoner",
}
MESSAGE_REASON_LABELS = messaging.REASON_LABELS
MEDIA_TYPE_LABELS = {
    "image/jpeg": "foto (JPEG)",
    "image/png": "afbeelding (PNG)",
    "image/heic": "foto (HEIC)",
    "application/pdf": "document (PDF)",
}
TEMPLATE_NOTICE = (
    "Laatste bericht van de inwoner is meer dan 24 uur geleden: uw bericht gaat als vaste "
    "sjabloontekst (WhatsApp-regel)."
)
NOT_FOUND_MEDIA = "Dit bestand bestaat niet of hoort niet bij deze zaak."
# A resident's button choice as the transcript holds it when the button's title is unknown
# (stored before the action server replaced payloads such as "/affirm" by the title).
BUTTON_CHOSEN = "(knop gekozen)"


ERROR_TITLES = {
    403: "Geen toegang",
    404: "Niet gevonden",
    409: "Niet toegestaan",
    422: "Ongeldige invoer",
}
ERROR_MESSAGES = {
    403: "U heeft geen toegang tot deze pagina.",
    404: "Deze pagina bestaat niet.",
    409: "Deze wijziging is niet toegestaan.",
    422: "De gegevens in het formulier zijn ongeldig. Ga terug en controleer uw invoer.",
}
CSRF_MESSAGE = (
    "Dit formulier is verlopen of niet vanuit Voordeur verstuurd. Ga terug, vernieuw de "
    "pagina en probeer het opnieuw."
)
CROSS_SITE_MESSAGE = (
    "Dit verzoek komt van een andere website en is daarom geweigerd. Gebruik de formulieren "
    "op de Voordeur-pagina's zelf."
)
# Case workers ("staff") work handovers; front-office "reviewer"s review conversations.
PAGE_ROLES = ("staff", "reviewer")
HOME_OF_ROLE = {"staff": "/staff/inbox", "reviewer": "/staff/gesprekken"}
WRONG_ROLE = "Deze pagina is voor een andere rol. Gebruik het menu bovenaan."
NOT_FOUND_HANDOVER = "Deze overdracht bestaat niet of is niet aan uw organisatie gericht."


def _local_time(value: Any) -> str:
    """Dates as a Dutch case worker reads them: local time (CET/CEST), day-month-year."""
    return value.astimezone(LOCAL_TIME).strftime("%d-%m-%Y %H:%M") if value else ""


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_env.globals.update(
    CRISIS_LABELS=CRISIS_LABELS,
    OUTCOME_LABELS=OUTCOME_LABELS,
    INBOX_STATUS_LABELS=INBOX_STATUS_LABELS,
    ASSIGNED_LABELS=ASSIGNED_LABELS,
    STATUS_LABELS=STATUS_LABELS,
    ACTION_LABELS=ACTION_LABELS,
    PRIORITY_LABELS=PRIORITY_LABELS,
    LEVEL_LABELS=LEVEL_LABELS,
    CHANNEL_LABELS=CHANNEL_LABELS,
    CONTACT_LABELS=CONTACT_LABELS,
    DOMAIN_LABELS=DOMAIN_LABELS,
    CSRF_FIELD=CSRF_FIELD,
    MESSAGE_STATUS_LABELS=MESSAGE_STATUS_LABELS,
    WEBCHAT_STATUS_LABELS=WEBCHAT_STATUS_LABELS,
    MESSAGE_REASON_LABELS=MESSAGE_REASON_LABELS,
    MEDIA_TYPE_LABELS=MEDIA_TYPE_LABELS,
    TEMPLATE_NOTICE=TEMPLATE_NOTICE,
    MAX_MESSAGE_TEXT=messaging.MAX_TEXT,
)
_env.filters["datum"] = _local_time


def _org_display_name(organisation: str | None, team: str | None = None) -> str:
    """The organisation's (and team's) name for people, never an internal id."""
    return current_directory().display_name(organisation, team) if organisation else ""


_env.globals["org_display_name"] = _org_display_name


def _event_text(event: HandoverEventOut) -> str:
    """A timeline event in Dutch, with readable organisation names."""
    return events.describe(event, _org_display_name)


_env.globals["event_text"] = _event_text
_env.globals["event_who"] = events.who
_env.globals["EVENT_NAMED_KINDS"] = events.NAMED_KINDS
templates = Jinja2Templates(env=_env)


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login page."""


class StaffPageError(Exception):
    """A refusal shown to the case worker as a Dutch error page with ``status_code``."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


async def login_required_handler(request: Request, exc: Exception) -> Response:
    """Redirect to the login page and drop the dead session cookie."""
    response = RedirectResponse("/staff/login", status_code=status.HTTP_303_SEE_OTHER)
    if request.cookies.get(COOKIE):
        response.delete_cookie(COOKIE, path="/staff", httponly=True, samesite="strict")
    return response


def _security_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    # Not "no-referrer": Chromium then sends "Origin: null" on same-origin form posts.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render a page; the header's user and logout form come from the resolved session."""
    login = getattr(request.state, "staff_login", None)
    context.setdefault("user", login.principal if login else None)
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", None))
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    return _security_headers(response)


def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    """The Dutch HTML error page for ``status_code``."""
    return _page(
        request,
        "error.html",
        {
            "title": ERROR_TITLES.get(status_code, "Er ging iets mis"),
            "message": message or ERROR_MESSAGES.get(status_code, "Er ging iets mis."),
            "status_code": status_code,
        },
        status_code=status_code,
    )


class StaffRoute(APIRoute):
    """Route class of the staff pages: refusals become Dutch HTML pages instead of JSON.

    Dependencies run inside the route handler, so this also catches what they raise (login
    required, CSRF, foreign origin, handover of another organisation, invalid form fields).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def staff_handler(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequired as exc:
                return await login_required_handler(request, exc)
            except StaffPageError as exc:
                return error_page(request, exc.status_code, exc.message)
            except RequestValidationError as exc:
                # A malformed id in the URL is a page that does not exist; anything else is
                # a form the user can correct.
                in_path = any(err.get("loc", ("",))[0] == "path" for err in exc.errors())
                return error_page(request, 404 if in_path else 422)
            except HTTPException as exc:
                if exc.status_code in ERROR_TITLES:
                    return error_page(request, exc.status_code)
                raise

        return staff_handler


router = APIRouter(prefix="/staff", include_in_schema=False, route_class=StaffRoute)


def _staff_login(
    request: Request, session: SessionDep, settings: SettingsDep
) -> sessions.StaffLogin | None:
    """The live session behind the cookie (also kept on ``request.state`` for templates)."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    login = sessions.resolve(
        session, session_id=session_id, idle_minutes=settings.VOORDEUR_SESSION_IDLE_MINUTES
    )
    if login is None or not login.principal.organisation or login.principal.role not in PAGE_ROLES:
        return None
    request.state.staff_login = login
    request.state.csrf_token = session_csrf_token(session_id)
    return login


def require_any_page_user(
    login: Annotated[sessions.StaffLogin | None, Depends(_staff_login)],
) -> Principal:
    """Any logged-in case worker or reviewer (statistics, logout)."""
    if login is None:
        raise LoginRequired
    return login.principal


AnyPageUser = Annotated[Principal, Depends(require_any_page_user)]


def require_page_user(user: AnyPageUser) -> Principal:
    """A case worker: the inbox and the handover pages."""
    if user.role != "staff":
        raise StaffPageError(status.HTTP_403_FORBIDDEN, WRONG_ROLE)
    return user


PageUser = Annotated[Principal, Depends(require_page_user)]


def require_reviewer_page_user(user: AnyPageUser) -> Principal:
    """A front-office reviewer: the conversation review pages."""
    if user.role != "reviewer":
        raise StaffPageError(status.HTTP_403_FORBIDDEN, WRONG_ROLE)
    return user


ReviewerPageUser = Annotated[Principal, Depends(require_reviewer_page_user)]


def same_origin(request: Request) -> None:
    """Refuse form posts that a browser says come from another site.

    ``Origin: null`` (sandboxed frames, privacy settings) proves nothing either way and is
    left to the CSRF token; an ``Origin`` naming another host, or ``Sec-Fetch-Site`` saying
    cross-site or same-site (another port or subdomain), is refused.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    foreign_origin = bool(
        origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc
    )
    if foreign_origin or fetch_site in ("cross-site", "same-site"):
        raise StaffPageError(status.HTTP_403_FORBIDDEN, CROSS_SITE_MESSAGE)


SameOrigin = Annotated[None, Depends(same_origin)]


def require_any_form_user(
    request: Request,
    _origin: SameOrigin,
    user: AnyPageUser,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Principal:
    """A logged-in POST from our own form: same origin and the session's CSRF token."""
    expected: str = request.state.csrf_token
    if not csrf_token or not tokens_equal(csrf_token, expected):
        raise StaffPageError(status.HTTP_403_FORBIDDEN, CSRF_MESSAGE)
    return user


AnyFormUser = Annotated[Principal, Depends(require_any_form_user)]


def require_form_user(user: AnyFormUser) -> Principal:
    """A case worker's POST (see ``require_any_form_user``)."""
    return require_page_user(user)


FormUser = Annotated[Principal, Depends(require_form_user)]


def require_reviewer_form_user(user: AnyFormUser) -> Principal:
    """A reviewer's POST (see ``require_any_form_user``)."""
    return require_reviewer_page_user(user)


ReviewerFormUser = Annotated[Principal, Depends(require_reviewer_form_user)]


def _own_handover(
    session: Session, user: Principal, handover_id: uuid.UUID, *, for_update: bool
) -> Handover:
    handover = handovers.get_for_organisation(
        session, handover_id=handover_id, organisation=user.organisation, for_update=for_update
    )
    if handover is None:
        raise StaffPageError(status.HTTP_404_NOT_FOUND, NOT_FOUND_HANDOVER)
    return handover


def own_handover(handover_id: uuid.UUID, session: SessionDep, user: PageUser) -> Handover:
    """The handover when it is addressed to the user's organisation; a 404 page otherwise."""
    return _own_handover(session, user, handover_id, for_update=False)


def own_handover_for_update(
    handover_id: uuid.UUID, session: SessionDep, user: PageUser
) -> Handover:
    """As ``own_handover``, locked so that concurrent status changes are serialised."""
    return _own_handover(session, user, handover_id, for_update=True)


OwnHandover = Annotated[Handover, Depends(own_handover)]
OwnHandoverForUpdate = Annotated[Handover, Depends(own_handover_for_update)]


def _login_key(settings: Settings) -> bytes:
    return derive_key(settings.VOORDEUR_SERVICE_TOKEN.get_secret_value(), "staff-login-csrf")


def _login_page(
    request: Request, settings: Settings, *, error: str | None = None, status_code: int = 200
) -> Response:
    """The login form with a fresh signed pre-session CSRF value (cookie + hidden field)."""
    value = new_login_csrf(_login_key(settings))
    response = _page(
        request,
        "login.html",
        {"error": error, "user": None, "csrf_token": value},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=LOGIN_CSRF_MAX_AGE_SECONDS,
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
    )
    return response


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def index(login: Annotated[sessions.StaffLogin | None, Depends(_staff_login)]) -> Response:
    target = HOME_OF_ROLE[login.principal.role] if login else "/staff/login"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep) -> Response:
    return _login_page(request, settings)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _origin: SameOrigin,
    token: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not login_csrf_valid(
        _login_key(settings), cookie=request.cookies.get(LOGIN_CSRF_COOKIE), field=csrf_token
    ):
        return _login_page(
            request,
            settings,
            error="Het inlogformulier was verlopen. Vul uw toegangscode opnieuw in.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    previous = request.cookies.get(COOKIE)
    if previous:  # a new login never continues an old session id (session fixation)
        sessions.end(session, session_id=previous)
    started = sessions.start(
        session,
        token=token.strip(),
        service_token=settings.VOORDEUR_SERVICE_TOKEN.get_secret_value(),
        max_hours=settings.VOORDEUR_SESSION_MAX_HOURS,
        idle_minutes=settings.VOORDEUR_SESSION_IDLE_MINUTES,
    )
    if started is None:
        return _login_page(
            request,
            settings,
            error="Deze toegangscode is onbekend, verlopen of ingetrokken.",
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    if started.principal.role not in PAGE_ROLES or not started.principal.organisation:
        sessions.end(session, session_id=started.session_id)
        return _login_page(
            request,
            settings,
            error="Met dit account kunt u de medewerkerspagina's niet gebruiken.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    response = RedirectResponse(
        HOME_OF_ROLE[started.principal.role], status_code=status.HTTP_303_SEE_OTHER
    )
    response.set_cookie(
        COOKIE,
        started.session_id,
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
    )  # no max-age: the browser forgets it when closed; the server ends it anyway
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff", httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, _user: AnyFormUser) -> Response:
    sessions.end(session, session_id=request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/staff/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/staff", httponly=True, samesite="strict")
    return response


INBOX_PAGE_SIZE = 25
BAD_FILTER = "Een van de filters heeft een onbekende waarde. Kies een waarde uit de lijst."
FilterValue = Annotated[str, Query(max_length=100)]


def _choice(value: str, allowed: Any) -> str | None:
    """A filter value from a GET form: empty is no filter, an unknown one a Dutch 422 page."""
    value = value.strip()
    if not value:
        return None
    if value not in allowed:
        raise StaffPageError(422, BAD_FILTER)
    return value


def _team_options(directory: Directory, organisation: str) -> list[tuple[str, str]]:
    org = directory.organisation(organisation)
    if org is None:
        return []
    return [(t.id, t.name[:1].upper() + t.name[1:]) for t in org.teams.values()]


def _municipality_options(directory: Directory, organisation: str) -> list[tuple[str, str]]:
    served = [
        m
        for m in directory.municipalities.values()
        if any(ref.organisation == organisation for ref in m.destinations)
    ]
    return sorted(((m.code, m.name) for m in served), key=lambda item: item[1])


def _inbox_url(filters: dict[str, str | None], **changes: Any) -> str:
    """The inbox with ``filters`` (changed by ``changes``), empty ones left out."""
    merged = {**filters, **changes}
    query = urlencode(
        {k: v for k, v in merged.items() if v not in (None, "") and not (k == "page" and v == 1)}
    )
    return f"/staff/inbox?{query}" if query else "/staff/inbox"


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: PageUser,
    status_: Annotated[str, Query(alias="status", max_length=20)] = "",
    priority: FilterValue = "",
    q: FilterValue = "",
    team: FilterValue = "",
    municipality: FilterValue = "",
    level: FilterValue = "",
    domain: FilterValue = "",
    assigned: FilterValue = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The case worker's inbox: open cases first, urgent first, then longest waiting first;
    filters and search in the query string (so a filtered view can be bookmarked)."""
    assert user.organisation is not None
    organisation = user.organisation
    teams = _team_options(directory, organisation)
    municipalities = _municipality_options(directory, organisation)
    chosen_status = _choice(status_, INBOX_STATUS_LABELS)
    chosen_priority = _choice(priority, PRIORITIES)
    chosen_team = _choice(team, {t for t, _ in teams})
    chosen_municipality = _choice(municipality, {code for code, _ in municipalities})
    chosen_level = _choice(level, LEVELS)
    chosen_domain = _choice(domain, DOMAIN_LABELS)
    chosen_assigned = _choice(assigned, ASSIGNED_LABELS)
    search = q.strip()
    filters = handovers.HandoverFilter(
        organisation=organisation,
        status=chosen_status,
        priority=chosen_priority,
        municipality=chosen_municipality,
        level=chosen_level,
        team=chosen_team,
        domain=chosen_domain,
        q=search or None,
        assigned_username=user.username if chosen_assigned == "me" else None,
        unassigned=chosen_assigned == "none",
    )
    items, total = handovers.list_handovers(
        session, filters=filters, order="waiting", page=page, page_size=INBOX_PAGE_SIZE
    )
    counts = handovers.status_counts(session, filters=filters)
    audit.record_list(
        session,
        actor=user.actor,
        organisation=organisation,
        filters={
            "status": chosen_status,
            "priority": chosen_priority,
            "municipality": chosen_municipality,
            "level": chosen_level,
            "team": chosen_team,
            "domain": chosen_domain,
            "search": handovers.search_kind(search),
            "assigned": chosen_assigned,
            "page": page,
        },
        handover_ids=[str(h.id) for h in items],
        via="staff-page",
    )
    session.commit()
    catalogue = applications.current()
    now = utcnow()
    rows = []
    for h in items:
        out = handovers.to_out(h)
        rows.append(
            {
                "h": out,
                "topic": handovers.topic_of(out, catalogue),
                "sla": handovers.service_level(h, directory, now=now),
                "team_name": directory.display_name(h.destination_organisation, h.destination_team),
            }
        )
    query: dict[str, str | None] = {
        "q": search or None,
        "status": chosen_status,
        "priority": chosen_priority,
        "team": chosen_team,
        "municipality": chosen_municipality,
        "level": chosen_level,
        "domain": chosen_domain,
        "assigned": chosen_assigned,
    }
    pages = max(1, -(-total // INBOX_PAGE_SIZE))
    return _page(
        request,
        "inbox.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "counts": counts,
            "query": query,
            "search": search,
            "filtered": any(v for k, v in query.items() if k != "status"),
            "teams": teams,
            "municipalities": municipalities,
            "inbox_url": lambda **changes: _inbox_url(query, **changes),
        },
    )


def _shown_transcript(events: list[Any]) -> list[Any]:
    """The conversation as the resident saw it: a button payload ("/affirm") that reached us
    without its title reads "(knop gekozen)" instead of the code."""
    return [
        e.model_copy(update={"text": BUTTON_CHOSEN})
        if e.sender == "user" and e.text.startswith("/")
        else e
        for e in events
    ]


def _local_input(value: datetime) -> str:
    """A moment as an ``<input type="datetime-local">`` value (local time)."""
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%dT%H:%M")


def _detail_context(
    session: SessionDep,
    user: Principal,
    handover: Handover,
    directory: Directory,
    settings: Settings | None = None,
) -> dict[str, Any]:
    transcript = handovers.transcript_of(session, handover=handover, redacted=True)
    audit.record_handover_read(
        session,
        actor=user.actor,
        handover_id=str(handover.id),
        via="staff-page",
    )
    message_context = _messages_context(session, user, handover, directory, settings)
    session.commit()
    out = handovers.to_out(handover)
    assert user.organisation is not None
    return {
        "h": out,
        # The application as a readable form (None while consent withholds it).
        "application": _application_view(out),
        "notes": handovers.notes_out(handover),
        "calls": call_attempts.attempts_out(handover),
        "timeline": events.timeline(session, handover=handover),
        "transcript": _shown_transcript(transcript),
        "return_targets": directory.return_targets(
            municipality_code=handover.municipality_code,
            from_organisation=handover.destination_organisation,
        ),
        "org_name": directory.display_name,
        "transitions": sorted(t for t in handovers.TRANSITIONS[handover.status] if t != "returned"),
        "can_return": "returned" in handovers.TRANSITIONS[handover.status],
        "is_open": handover.status not in ("returned", "closed"),
        "assignees": [
            (u.username, u.display_name, _team_name(directory, u.organisation, u.team))
            for u in handovers.assignable_users(session, organisation=user.organisation)
        ],
        "sla": handovers.service_level(handover, directory),
        # The organisation's other teams this case can be forwarded to.
        "forward_teams": _forward_teams(directory, handover),
        "now_local": _local_input(utcnow()),
        "error": None,
        "form": {},
    } | message_context


def _messages_context(
    session: Session,
    user: Principal,
    handover: Handover,
    directory: Directory,
    settings: Settings | None,
) -> dict[str, Any]:
    """The section "Berichten met de inwoner": the thread, the resident's files and how the
    next message goes (``plan``). Showing a non-empty thread is audited (``messages.read``)."""
    thread = messaging.thread(session, handover=handover)
    if thread:
        audit.record_messages_read(
            session,
            actor=user.actor,
            handover_id=str(handover.id),
            count=len(thread),
            via="staff-page",
        )
    plan = messaging.plan_for(session, handover=handover, settings=settings, directory=directory)
    return {
        "thread": thread,
        "media_files": [f for m in thread for f in m.media],
        "plan": plan.out(),
        "plan_refusal": messaging.REFUSALS[plan.refusal][1] if plan.refusal else None,
    }


def _team_name(directory: Directory, organisation: str, team: str | None) -> str:
    org = directory.organisation(organisation)
    known = org.teams.get(team) if org is not None and team else None
    return known.name[:1].upper() + known.name[1:] if known else ""


def _application_view(out: Any) -> applications.ApplicationView | None:
    if not out.application:
        return None
    return applications.view(
        regeling=out.application.type,
        fields=out.application.fields,
        complete=out.application.complete,
        catalogue=applications.current(),
    )


@router.get("/handovers/{handover_id}", response_class=HTMLResponse)
def detail(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    settings: SettingsDep,
    user: PageUser,
    handover: OwnHandover,
) -> Response:
    return _page(
        request, "detail.html", _detail_context(session, user, handover, directory, settings)
    )


@router.post("/handovers/{handover_id}/messages", response_class=HTMLResponse)
def send_message(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    settings: SettingsDep,
    user: FormUser,
    handover: OwnHandoverForUpdate,
    text: Annotated[str, Form(max_length=4 * messaging.MAX_TEXT)] = "",
) -> Response:
    """Send the resident a message through the resident's channel (SMS/WhatsApp via Twilio);
    the thread shows its delivery status."""
    text = text.replace("\r\n", "\n")
    try:
        messaging.send_message(
            session,
            handover=handover,
            text=text,
            principal=user,
            settings=settings,
            directory=directory,
        )
    except ServiceError as exc:
        session.rollback()
        if isinstance(exc, messaging.MessageRefused):
            error = exc.dutch
        elif not text.strip():
            error = "Een bericht mag niet leeg zijn."
        else:
            error = f"Een bericht is hoogstens {messaging.MAX_TEXT} tekens lang."
        context = _detail_context(session, user, handover, directory, settings)
        context["error"] = error
        context["form"] = {"message_text": text}
        return _page(request, "detail.html", context, status_code=exc.status_code)
    return RedirectResponse(
        f"/staff/handovers/{handover.id}#berichten", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/handovers/{handover_id}/media/{media_id}")
def download_media(
    session: SessionDep,
    user: PageUser,
    handover: OwnHandover,
    media_id: uuid.UUID,
) -> Response:
    """A photo or document the resident sent, as a download of its own type (never shown
    inline; ``nosniff``). Only for the case's own organisation while consent covers it;
    audited (``media.download``)."""
    item = messaging.media_for_organisation(session, handover=handover, media_id=media_id)
    if item is None:
        raise StaffPageError(status.HTTP_404_NOT_FOUND, NOT_FOUND_MEDIA)
    audit.record_media_download(
        session,
        actor=user.actor,
        handover_id=str(handover.id),
        media_id=str(item.id),
        content_type=item.content_type,
        via="staff-page",
    )
    session.commit()
    name = media.download_name(
        filename=item.filename,
        content_type=item.content_type,
        reference=handover.reference,
        key=str(item.id)[:8],
    )
    response = Response(content=item.data, media_type=item.content_type)
    response.headers["Content-Disposition"] = _attachment(name)
    return _security_headers(response)


def _attachment(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 one (RFC 6266/5987)."""
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    ascii_name = ascii_name.replace('"', "_").replace("\\", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/handovers/{handover_id}/print", response_class=HTMLResponse)
def print_view(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: PageUser,
    handover: OwnHandover,
) -> Response:
    """A case summary to print or save as PDF: no menu, no forms, no transcript. Audited as a
    read of the handover (``via: staff-print``)."""
    audit.record(
        session,
        actor=user.actor,
        action="handover.read",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={"handover_id": str(handover.id), "via": "staff-print"},
    )
    session.commit()
    out = handovers.to_out(handover)
    return _page(
        request,
        "print.html",
        {
            "h": out,
            "application": _application_view(out),
            "notes": handovers.notes_out(handover),
            "calls": call_attempts.attempts_out(handover),
            "timeline": events.timeline(session, handover=handover),
            "org_name": directory.display_name,
            "sla": handovers.service_level(handover, directory),
            "topic": handovers.topic_of(out, applications.current()),
            "printed_at": utcnow(),
        },
    )


@router.post("/handovers/{handover_id}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: FormUser,
    handover: OwnHandoverForUpdate,
    status_: Annotated[Status, Form(alias="status")],
    reason: Annotated[str, Form(max_length=1000)] = "",
    target: Annotated[str, Form(max_length=300)] = "",
    consent_for_destination: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A status change; ``returned`` takes ``target`` from the pick-list of the other level's
    teams ("level|organisation|team") and the consent checkbox. Claiming assigns the case to
    the user; releasing it clears the assignment."""
    try:
        destination = None
        if status_ == "returned" and target.count("|") == 2:
            level, organisation, team = target.split("|")
            destination = DestinationIn.model_validate(
                {"level": level, "organisation": organisation, "team": team}
            )
        update = HandoverUpdate(
            status=status_,
            reason=reason.strip() or None,
            destination=destination,
            consent_for_destination=status_ == "returned" and consent_for_destination == "ja",
        )
        handovers.change_status(
            session, handover=handover, update=update, principal=user, directory=directory
        )
    except (ServiceError, ValueError) as exc:
        session.rollback()
        context = _detail_context(session, user, handover, directory)
        context["error"] = _dutch_error(exc)
        return _page(request, "detail.html", context, status_code=_status_of(exc))
    return RedirectResponse(
        f"/staff/handovers/{handover.id}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.post("/handovers/{handover_id}/assign", response_class=HTMLResponse)
def assign(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: FormUser,
    handover: OwnHandoverForUpdate,
    username: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Give the case to a colleague of the same organisation (pick-list of case workers)."""
    try:
        handovers.assign(session, handover=handover, username=username.strip(), principal=user)
    except ServiceError as exc:
        session.rollback()
        context = _detail_context(session, user, handover, directory)
        context["error"] = (
            "Deze zaak is afgerond en kan niet meer worden toegewezen."
            if exc.status_code == 409
            else "Kies in de lijst een medewerker van uw organisatie om de zaak aan toe te wijzen."
        )
        return _page(request, "detail.html", context, status_code=exc.status_code)
    return RedirectResponse(
        f"/staff/handovers/{handover.id}#behandelaar", status_code=status.HTTP_303_SEE_OTHER
    )


def _forward_teams(directory: Directory, handover: Handover) -> list[tuple[str, str]]:
    """(team id, readable name) of the organisation's other teams."""
    org = directory.organisation(handover.destination_organisation)
    if org is None:
        return []
    return [
        (team.id, directory.display_name(org.id, team.id))
        for team in org.teams.values()
        if team.id != handover.destination_team
    ]


@router.post("/handovers/{handover_id}/forward", response_class=HTMLResponse)
def forward(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: FormUser,
    handover: OwnHandoverForUpdate,
    background: BackgroundTasks,
    team: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Forward the case to another team of the organisation (the forwarded event; that team
    is told and its claim time starts)."""
    try:
        handovers.forward(
            session, handover=handover, team=team.strip(), principal=user, directory=directory
        )
    except ServiceError as exc:
        session.rollback()
        context = _detail_context(session, user, handover, directory)
        context["error"] = (
            "Deze zaak is afgerond, of al bij dit team."
            if exc.status_code == 409
            else "Kies in de lijst een team van uw organisatie."
        )
        return _page(request, "detail.html", context, status_code=exc.status_code)
    notifications.announce_soon(request, background, session, handover.id)
    return RedirectResponse(
        f"/staff/handovers/{handover.id}#behandelaar", status_code=status.HTTP_303_SEE_OTHER
    )


CALLBACK_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


def _callback_moment(value: str) -> datetime | None:
    """A ``datetime-local`` value (local time, Europe/Amsterdam) as a UTC moment."""
    value = value.strip()
    if not value:
        return None
    for fmt in CALLBACK_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=LOCAL_TIME)
        except ValueError:
            continue
    raise ValueError("callback_at is not a date and time")


@router.post("/handovers/{handover_id}/calls", response_class=HTMLResponse)
def add_call_attempt(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: FormUser,
    handover: OwnHandoverForUpdate,
    outcome: Annotated[str, Form(max_length=20)] = "",
    callback_at: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Record a call attempt: bereikt, niet bereikt, or terugbellen op (date and time)."""
    error: str | None = None
    status_code = 422
    try:
        if outcome not in CALL_OUTCOMES:
            raise ValueError("outcome")
        moment = _callback_moment(callback_at) if outcome == "terugbellen" else None
        body = CallAttemptCreate.model_validate(
            {"outcome": outcome, "callback_at": moment, "note": note.strip() or None}
        )
        call_attempts.record_attempt(
            session,
            handover=handover,
            outcome=body.outcome,
            callback_at=body.callback_at,
            note=body.note,
            principal=user,
        )
    except ServiceError as exc:
        session.rollback()
        status_code = exc.status_code
        error = (
            "Deze zaak is afgerond: er kunnen geen belpogingen meer bij."
            if exc.status_code == 409
            else _call_error(exc.message)
        )
    except (ValidationError, ValueError) as exc:
        error = _call_error(str(exc))
    if error is not None:
        context = _detail_context(session, user, handover, directory)
        context["error"] = error
        context["form"] = {"outcome": outcome, "callback_at": callback_at, "note": note}
        return _page(request, "detail.html", context, status_code=status_code)
    return RedirectResponse(
        f"/staff/handovers/{handover.id}#belpogingen", status_code=status.HTTP_303_SEE_OTHER
    )


def _call_error(message: str) -> str:
    if "outcome" in message and "callback" not in message:
        return "Kies de uitkomst van de belpoging: bereikt, niet bereikt of terugbellen."
    if "callback" in message or "datetime" in message or "date" in message:
        return (
            "Vul bij terugbellen een datum en tijd in (uiterlijk een jaar vooruit) waarop u "
            "de inwoner terugbelt."
        )
    if "note" in message:
        return "De toelichting is te lang of bevat tekens die niet zijn toegestaan."
    return "De belpoging kon niet worden opgeslagen. Controleer de invoer."


@router.post("/handovers/{handover_id}/notes", response_class=HTMLResponse)
def add_note(
    request: Request,
    session: SessionDep,
    directory: DirectoryDep,
    user: FormUser,
    handover: OwnHandover,
    text: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    if not text.strip():
        context = _detail_context(session, user, handover, directory)
        context["error"] = "Een notitie mag niet leeg zijn."
        return _page(request, "detail.html", context, status_code=422)
    handovers.add_note(session, handover=handover, text=text, principal=user)
    return RedirectResponse(
        f"/staff/handovers/{handover.id}#notities", status_code=status.HTTP_303_SEE_OTHER
    )


def _status_of(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, ServiceError) else 422


def _dutch_error(exc: Exception) -> str:
    if isinstance(exc, ServiceError) and exc.status_code == 409:
        return "Deze statuswijziging is niet toegestaan."
    message = exc.message if isinstance(exc, ServiceError) else str(exc)
    if "reason" in message:
        return "Geef een reden op om de overdracht terug te leggen."
    if "return target" in message or "destination" in message or "organisation" in message:
        return "Kies in de lijst het team van het andere niveau om de zaak terug te leggen."
    return "De wijziging kon niet worden opgeslagen. Controleer de invoer."
