"""``POST /api/v1/twilio/status``: Twilio's StatusCallback for the messages professionals sent.

Form-encoded (``MessageSid``, ``MessageStatus``, ``ErrorCode``, ...), signed by Twilio with the
account's auth token in ``X-Twilio-Signature`` over the URL it called and the form fields. The
URL is ``VOORDEUR_PUBLIC_API_URL`` + this path when that is set (behind a proxy the request URL
is not what Twilio called), else the request's own URL. A bad or missing signature, or no
``TWILIO_AUTH_TOKEN`` configured, is 403 (audited) and changes nothing; an unknown message is
204 (Twilio then stops). The status only moves forward (``services/messaging.apply_status``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from handover_api.api.deps import SessionDep, SettingsDep, refuse
from handover_api.services import messaging

router = APIRouter(prefix="/twilio", tags=["twilio"])

ACTOR = "twilio"


def _signed_url(request: Request, public_url: str | None) -> str:
    if not public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public_url.rstrip('/')}{request.url.path}{query}"


@router.post(
    "/status",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={403: {"description": "missing or bad X-Twilio-Signature"}},
)
async def twilio_status(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Delivery status of a sent message (Twilio's StatusCallback)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN.get_secret_value() if settings.TWILIO_AUTH_TOKEN else ""
    url = _signed_url(request, settings.VOORDEUR_PUBLIC_API_URL)
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        raise await run_in_threadpool(
            refuse,
            session,
            request,
            actor=ACTOR,
            status_code=status.HTTP_403_FORBIDDEN,
            detail="invalid Twilio signature",
        )
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    twilio_status_ = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if sid and twilio_status_:
        # The database work runs in the thread pool, as in the synchronous routes.
        await run_in_threadpool(
            messaging.apply_status,
            session,
            sid=sid,
            twilio_status=twilio_status_,
            error_code=params.get("ErrorCode"),
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
