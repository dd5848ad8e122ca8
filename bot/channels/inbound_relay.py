"""A resident's SMS/WhatsApp message to the professional who wrote to them, photos included.

When a professional has written to a resident, the handover API keeps that thread. Every
inbound Twilio message is first offered to the API (before Rasa sees it)::

    POST {relay_url}/api/v1/inbound-messages
    Authorization: Bearer {VOORDEUR_SERVICE_TOKEN}
    {"channel": "sms"|"whatsapp", "from_phone": "+316...", "message_sid": "SM...",
     "body": "...", "media": [{"content_type": "image/jpeg", "filename": null,
                              "data_base64": "..."}]}
    -> {"matched": bool, "handover_id", "reference", "organisation_name",
        "stored_media": int, "refused_media": [{"content_type", "reason"}]}

`matched` means the API added the message (and stored the files) to that handover, for that
organisation only. The channel (twilio_voordeur.py) decides what the resident hears and whether
Rasa still gets the text.

Photos and documents are fetched here from Twilio: with the account's HTTP basic auth, following
Twilio's redirect to its CDN (aiohttp drops the credentials when a redirect leaves the origin),
at most MAX_MEDIA files of at most MAX_MEDIA_BYTES each (reading stops beyond that), only the
types in ALLOWED_MEDIA_TYPES and only when the content looks like the declared type. Media
URLs are fetched only under `media_base_url` (Twilio's API), so the auth token never goes
elsewhere. Nothing here logs a URL, a phone number, a text or a file: only counts, reasons and
error types.
"""

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

INBOUND_PATH = "/api/v1/inbound-messages"
TWILIO_MEDIA_BASE_URL = "https://api.twilio.com/"
ALLOWED_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "application/pdf"})
MAX_MEDIA = 5
MAX_MEDIA_BYTES = 10 * 1024 * 1024
RELAY_TIMEOUT_SECONDS = 2.0  # a text: a slow API must not hold Twilio's webhook
RELAY_MEDIA_TIMEOUT_SECONDS = 6.0  # a text with up to 50 MB of files
FETCH_TIMEOUT_SECONDS = 6.0  # all files of one message together (Twilio waits 15 s in all)
_CHUNK = 64 * 1024

# Why a file was not received; the channel turns these into advice for the resident.
TOO_MANY = "too_many"
TOO_LARGE = "too_large"
WRONG_TYPE = "unsupported_type"
NOT_FETCHED = "not_fetched"


@dataclass(frozen=True)
class Media:
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RefusedMedia:
    content_type: str
    reason: str


@dataclass
class FetchedMedia:
    media: list[Media] = field(default_factory=list)
    refused: list[RefusedMedia] = field(default_factory=list)


@dataclass(frozen=True)
class RelayResult:
    matched: bool
    handover_id: str | None = None
    reference: str | None = None
    organisation_name: str | None = None
    stored_media: int = 0
    refused_media: tuple[RefusedMedia, ...] = ()


class RelayError(Exception):
    """The API could not be reached or gave no usable answer; the message goes to Rasa."""


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def looks_like(content_type: str, head: bytes) -> bool:
    """Whether the first bytes of a file match its declared type (no HTML error page or
    executable passes as a photo)."""
    if content_type == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if content_type == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "application/pdf":
        return head.startswith(b"%PDF-")
    if content_type == "image/heic":  # ISO base media file: a box of type 'ftyp' first
        return head[4:8] == b"ftyp"
    return False


class _TooLarge(Exception):
    pass


class _NotItsType(Exception):
    pass


class InboundRelay:
    """Fetches a message's files from Twilio and offers the message to the handover API."""

    def __init__(
        self,
        url: str,
        token: str,
        account_sid: str | None = None,
        auth_token: str | None = None,
        media_base_url: str = TWILIO_MEDIA_BASE_URL,
        timeout: float = RELAY_TIMEOUT_SECONDS,
        media_timeout: float = RELAY_MEDIA_TIMEOUT_SECONDS,
        fetch_timeout: float = FETCH_TIMEOUT_SECONDS,
        max_media: int = MAX_MEDIA,
        max_media_bytes: int = MAX_MEDIA_BYTES,
    ) -> None:
        self.url = url.rstrip("/") + INBOUND_PATH
        self.token = token
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.media_base_url = media_base_url.rstrip("/") + "/"  # a prefix ending a host
        self.timeout = timeout
        self.media_timeout = media_timeout
        self.fetch_timeout = fetch_timeout
        self.max_media = max_media
        self.max_media_bytes = max_media_bytes

    # --- media ---------------------------------------------------------------------------

    def _auth(self) -> aiohttp.BasicAuth | None:
        if self.account_sid and self.auth_token:
            return aiohttp.BasicAuth(self.account_sid, self.auth_token)
        return None

    async def _download(self, session: aiohttp.ClientSession, url: str, declared: str) -> Media:
        async with session.get(
            url, auth=self._auth(), allow_redirects=True, max_redirects=5
        ) as resp:
            if resp.status != 200:
                raise aiohttp.ClientResponseError(
                    resp.request_info, resp.history, status=resp.status
                )
            if resp.content_length is not None and resp.content_length > self.max_media_bytes:
                resp.close()
                raise _TooLarge
            data = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > self.max_media_bytes:
                    resp.close()  # drops the connection: nothing more is read
                    raise _TooLarge
            served = base_type(resp.headers.get("Content-Type"))
        content_type = served if served in ALLOWED_MEDIA_TYPES else declared
        if not looks_like(content_type, bytes(data[:16])):
            raise _NotItsType
        return Media(content_type, bytes(data))

    async def _fetch_one(
        self, session: aiohttp.ClientSession, url: str, declared: str, sid: str
    ) -> Media | RefusedMedia:
        if declared not in ALLOWED_MEDIA_TYPES:
            return RefusedMedia(declared, WRONG_TYPE)
        if not url.startswith(self.media_base_url):
            logger.warning("media of %s not under the Twilio media URL; not fetched", sid)
            return RefusedMedia(declared, NOT_FETCHED)
        try:
            return await self._download(session, url, declared)
        except _TooLarge:
            return RefusedMedia(declared, TOO_LARGE)
        except _NotItsType:
            return RefusedMedia(declared, WRONG_TYPE)
        except aiohttp.ClientResponseError as exc:
            logger.warning("media of %s not fetched (HTTP %s)", sid, exc.status)
        except Exception as exc:  # a timeout, a refused connection, a broken redirect...
            logger.warning("media of %s not fetched (%s)", sid, type(exc).__name__)
        return RefusedMedia(declared, NOT_FETCHED)

    async def fetch_media(self, form: Mapping[str, str], count: int, sid: str) -> FetchedMedia:
        """The message's files (MediaUrl0.., MediaContentType0..), within the limits."""
        wanted = [
            (form.get(f"MediaUrl{i}") or "", base_type(form.get(f"MediaContentType{i}")))
            for i in range(count)
        ]
        wanted = [(url, content_type) for url, content_type in wanted if url]
        result = FetchedMedia()
        result.refused += [RefusedMedia(t, TOO_MANY) for _, t in wanted[self.max_media :]]
        wanted = wanted[: self.max_media]
        if not wanted:
            return result
        timeout = aiohttp.ClientTimeout(total=self.fetch_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            tasks = [
                asyncio.create_task(self._fetch_one(session, url, ct, sid)) for url, ct in wanted
            ]
            # Each request stops at fetch_timeout by itself; this is only the backstop.
            _, late = await asyncio.wait(tasks, timeout=self.fetch_timeout + 1)
            for task in late:
                task.cancel()
            if late:
                logger.warning("media of %s not fetched in time", sid)
        for task, (_, content_type) in zip(tasks, wanted, strict=True):
            outcome = task.result() if task.done() and not task.cancelled() else None
            if isinstance(outcome, Media):
                result.media.append(outcome)
            else:
                result.refused.append(outcome or RefusedMedia(content_type, NOT_FETCHED))
        return result

    # --- the API -------------------------------------------------------------------------

    async def relay(
        self, channel: str, sender: str, sid: str, body: str, media: list[Media]
    ) -> RelayResult:
        """Offers the message to the handover API; RelayError when it gives no answer."""
        payload = {
            "channel": channel,
            "from_phone": sender.removeprefix("whatsapp:"),
            "message_sid": sid,
            "body": body,
            "media": [
                {
                    "content_type": m.content_type,
                    "filename": None,
                    "data_base64": base64.b64encode(m.data).decode("ascii"),
                }
                for m in media
            ],
        }
        timeout = aiohttp.ClientTimeout(total=self.media_timeout if media else self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.url, json=payload, headers=headers) as resp,
            ):
                if resp.status != 200:
                    raise RelayError(f"HTTP {resp.status}")
                answer = await resp.json()
            return _result(answer)
        except RelayError:
            raise
        except Exception as exc:
            raise RelayError(type(exc).__name__) from None  # str(exc) may hold the URL


def _result(answer: Any) -> RelayResult:
    if not isinstance(answer, dict) or not isinstance(answer.get("matched"), bool):
        raise RelayError("answer without matched")
    refused = tuple(
        RefusedMedia(str(r.get("content_type") or ""), str(r.get("reason") or ""))
        for r in answer.get("refused_media") or []
        if isinstance(r, dict)
    )
    return RelayResult(
        matched=answer["matched"],
        handover_id=_text(answer.get("handover_id")),
        reference=_text(answer.get("reference")),
        organisation_name=_text(answer.get("organisation_name")),
        stored_media=int(answer.get("stored_media") or 0),
        refused_media=refused,
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
