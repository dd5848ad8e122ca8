"""``GET /api/v1/webchat/messages``: the resident's web chat picks up a professional's messages.

Public (no bearer token): the chat widget runs on municipal sites, in the resident's browser.
The credential is the widget's random sender id (``web-`` and 24 hex digits, kept only in that
browser tab's sessionStorage), the same id it sends to Rasa: its HMAC (``consumer.sender_key``,
as the review log stores it) names the chat's conversations, and through them their handovers.
A sender id that does not look like the widget's (fewer than 20 or more than 128 characters,
anything but letters, digits, ``-`` and ``_``; so never a phone number) is 422.

The answer lists the waiting messages (``queued``) of professionals to those web chat handovers,
oldest first, and marks them ``delivered`` in the same transaction; the conversations are marked
as seen (``webchat_seen_at``), so for the next 10 minutes a professional's message waits for this
chat instead of being stored as "not sent" (``services/messaging.py``). Nothing waiting: ``[]``.

Cheap to poll (every 15 s per open chat): one indexed query, a write only when a message was
picked up or the last mark is more than a minute old. ``Cache-Control: no-store``. The sender id
is never logged (our own lines carry message ids only; the access log's ``sender=`` value is
redacted by ``core.logging``). A request from a browser origin that is not allowed by CORS
(``VOORDEUR_CORS_ORIGINS``) is 403 and picks nothing up: the browser would not let the widget
read the answer, so the messages would be lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from handover_api.api.deps import DirectoryDep, SessionDep, SettingsDep
from handover_api.consumer import sender_key
from handover_api.services import messaging

router = APIRouter(prefix="/webchat", tags=["webchat"])

SENDER_PATTERN = r"^[A-Za-z0-9_-]{20,128}$"


class WebchatMessageOut(BaseModel):
    """A professional's message as the resident's chat shows it."""

    id: uuid.UUID
    organisation_name: str = Field(description="who writes, e.g. 'Senzer'")
    author: str = Field(description="the professional's first name, or 'een medewerker'")
    body: str = Field(description="plain text (BSNs stripped); never HTML")
    at: datetime


def _same_origin(request: Request, origin: str) -> bool:
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


@router.get(
    "/messages",
    response_model=list[WebchatMessageOut],
    responses={
        403: {"description": "a browser origin that CORS does not allow"},
        422: {"description": "the sender id does not look like the chat widget's"},
    },
)
def pick_up_messages(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    sender: Annotated[
        str,
        Query(
            pattern=SENDER_PATTERN,
            description="the chat widget's sender id (as sent to Rasa); the credential",
        ),
    ],
) -> list[WebchatMessageOut]:
    """The professionals' messages waiting for this web chat, now marked delivered."""
    response.headers["Cache-Control"] = "no-store"
    origin = request.headers.get("origin")
    if origin and origin not in settings.cors_origins and not _same_origin(request, origin):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="this origin may not use the web chat (VOORDEUR_CORS_ORIGINS)",
            headers={"Cache-Control": "no-store"},
        )
    key = sender_key(settings.VOORDEUR_SERVICE_TOKEN.get_secret_value(), sender)
    picked = messaging.webchat_pickup(session, sender_key=key, directory=directory)
    return [
        WebchatMessageOut(
            id=m.id,
            organisation_name=m.organisation_name,
            author=m.author,
            body=m.body,
            at=m.at,
        )
        for m in picked
    ]
