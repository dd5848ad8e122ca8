"""HTTP client for the handover API (the action server never imports its code).

Errors are split in two, because the caller must treat them differently:
- `HandoverApiUnavailable`: network trouble or a 5xx — the handover is queued in the outbox
  and retried with the same Idempotency-Key, so a retry can never create a second handover;
- `HandoverApiRejected`: a 4xx — retrying the same request would fail again.
"""

from typing import Any
from urllib.parse import quote

import aiohttp

from actions.config import Settings


class HandoverApiError(Exception):
    """Base class of handover API failures."""


class HandoverApiUnavailable(HandoverApiError):
    """The API could not be reached or had a server error; try again later."""


class HandoverApiRejected(HandoverApiError):
    """The API refused the request (4xx); `status` and `detail` say why."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"handover API answered {status}: {detail}")
        self.status = status
        self.detail = detail


class HandoverApiClient:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._settings.service_token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    async def _post(self, path: str, payload: dict[str, Any], key: str | None) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self._settings.http_timeout)
        url = f"{self._settings.handover_api_url}{path}"
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, json=payload, headers=self._headers(key)) as resp,
            ):
                body: Any = await resp.json(content_type=None)
                if resp.status >= 500:
                    raise HandoverApiUnavailable(f"{url} answered {resp.status}")
                if resp.status >= 400:
                    raise HandoverApiRejected(resp.status, body)
                return dict(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise HandoverApiUnavailable(f"{url}: {exc!r}") from exc

    async def _delete(self, path: str) -> None:
        timeout = aiohttp.ClientTimeout(total=self._settings.http_timeout)
        url = f"{self._settings.handover_api_url}{path}"
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.delete(url, headers=self._headers()) as resp,
            ):
                if resp.status >= 500:
                    raise HandoverApiUnavailable(f"{url} answered {resp.status}")
                if resp.status >= 400:
                    raise HandoverApiRejected(resp.status, await resp.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HandoverApiUnavailable(f"{url}: {exc!r}") from exc

    async def create_handover(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """POST /api/v1/handovers; the same key always yields the same handover."""
        return await self._post("/api/v1/handovers", payload, idempotency_key)

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """POST /api/v1/conversations/{id}/events; events carry ids, so replays are harmless."""
        await self._post(
            f"/api/v1/conversations/{conversation_id}/events", {"events": events}, None
        )

    async def withdraw_consent(self, handover_id: str) -> dict[str, Any]:
        """POST /api/v1/handovers/{id}/consent-withdrawal (contract v2); idempotent."""
        return await self._post(f"/api/v1/handovers/{handover_id}/consent-withdrawal", {}, None)

    async def erase_conversation(self, conversation_id: str) -> None:
        """DELETE /api/v1/conversations/{id}: the review copy of the conversation is deleted,
        and events that arrive later are dropped; idempotent (204, also for an unknown id)."""
        await self._delete(f"/api/v1/conversations/{quote(conversation_id, safe='')}")
