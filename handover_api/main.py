"""Voordeur handover API: the warm handover from the assistant to professionals.

The flow of a handover, step by step:

1. During a chat the action server (service token) appends the conversation's messages with
   ``POST /api/v1/conversations/{conversation_id}/events``; duplicates (same ``event_id``)
   are skipped, so retries are safe.
2. When the citizen consents, the action server posts the handover to
   ``POST /api/v1/handovers`` with an ``Idempotency-Key``: municipality, destination (the
   regional work & income organisation or the local team, chosen by the region routing),
   life domains with redacted evidence, crisis, summary, pre-filled application, contact,
   consent and the transcript. It gets 201 and the handover with its short ``reference``
   (e.g. ``VD-7K3P-92``) to tell the citizen; a retry with the same key and body gets 200
   and the same handover, never a second one.
3. Staff of the destination organisation see it in ``GET /api/v1/handovers`` (urgent first,
   then newest) or on the staff pages under ``/staff/``; nobody else sees it.
4. A professional opens it (``GET /api/v1/handovers/{id}``: notes and the redacted transcript;
   ``GET /api/v1/conversations/{id}/transcript?view=full`` for the unredacted one; the staff page
   shows the pre-filled application as a form). ``GET /api/v1/handovers/{id}/application/export``
   gives the application for the municipality's DigiD form: a ProductAanvraag object for its
   Objects API or a JSON envelope (``docs/applications.md``). Every read is written to the
   audit log.
5. They move it on with ``PATCH /api/v1/handovers/{id}``: ``new -> claimed -> in_progress ->
   closed``, and add internal notes with ``POST /api/v1/handovers/{id}/notes``.
6. If the other level should help (e.g. regional finds paid work is not possible: back to the
   local WMO team), ``PATCH`` with ``status=returned``, a reason and a destination: the
   handover is marked returned and a new, linked handover with the same data lands in the
   other organisation's inbox — the reverse warm handover, nothing asked twice.
7. ``python -m handover_api.cli purge`` deletes finished handovers and stale transcripts after
   ``VOORDEUR_RETENTION_DAYS``; the audit log keeps only ids.

Run: ``python -m handover_api.cli serve`` (or ``uvicorn handover_api.main:app``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from handover_api import __version__
from handover_api.api.main import api_router
from handover_api.api.routes import health
from handover_api.core.config import Settings, get_settings
from handover_api.core.db import Database
from handover_api.core.logging import install_log_filters
from handover_api.services import application_export, applications, directory, notifications
from handover_api.web.review_routes import router as review_router
from handover_api.web.routes import LoginRequired, error_page, login_required_handler
from handover_api.web.routes import router as staff_router

logger = logging.getLogger(__name__)

API_V1 = "/api/v1"
MAX_BODY_SIZE = 2 * 1024 * 1024


def _field(loc: list[str | int] | tuple[str | int, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 with one readable line per field; the rejected input is not echoed back."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        msg = str(error.get("msg", "invalid value"))
        errors.append(
            {
                "loc": list(error.get("loc", ())),
                "field": _field(error.get("loc", ())),
                "msg": msg,
                "type": error.get("type", "value_error"),
            }
        )
    message = "; ".join(f"{e['field']}: {e['msg']}" for e in errors)
    return JSONResponse(
        status_code=422,
        content=jsonable_encoder({"detail": errors, "message": f"invalid request: {message}"}),
    )


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Staff pages answer an unknown address with the Dutch 404 page; the API keeps JSON."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/staff") and exc.status_code == 404:
        return error_page(request, 404)
    return await http_exception_handler(request, exc)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    install_log_filters(settings.VOORDEUR_LOG_LEVEL)
    app = FastAPI(
        title="Voordeur handover API",
        version=__version__,
        description="Warm handover (warme overdracht) from the Voordeur assistant to staff.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        max_body_size=MAX_BODY_SIZE,
    )
    app.state.settings = settings
    app.state.db = Database(settings.DATABASE_URL)
    # Loaded now, so a broken region file or field catalogue stops start-up instead of failing
    # requests later; the export backends check the municipalities' configuration with both.
    regions = directory.configure(settings.VOORDEUR_DATA_DIR)
    catalogue = applications.configure(settings.VOORDEUR_DATA_DIR)
    application_export.check_config(regions, catalogue)
    notifications.configure(settings)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.include_router(health.router)
    app.include_router(api_router, prefix=API_V1)
    app.include_router(staff_router)
    app.include_router(review_router)
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    return app


app = create_app()
