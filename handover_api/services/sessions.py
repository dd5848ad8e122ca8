"""Server-side sessions of the staff pages.

Why: the staff cookie used to hold the raw bearer token, so a copied cookie worked for as long
as the token did and logging out only asked the browser to forget it. Now:

1. ``start``: a staff user logs in with their personal token; a random session id is made, only
   its SHA-256 hash is stored with the user, the token, ``created_at``, ``last_seen_at`` and the
   absolute end (``max_hours`` after login). The id goes into the cookie.
2. ``resolve``: each page request looks the session up by the hash of the cookie; it counts
   only while it is younger than its absolute end, was used within ``idle_minutes``, and its
   token is still valid (not revoked, not expired, user active). A session that fails is
   deleted. ``last_seen_at`` moves on (at most every ``TOUCH_SECONDS``, to save a write per
   page view).
3. ``end``: logout deletes the row, so a copied cookie no longer works.
4. ``end_for_token``: revoking a token ends its sessions (``users.revoke_*`` calls it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from handover_api.core.security import hash_token, new_session_id
from handover_api.models import StaffSession, utcnow
from handover_api.services.principals import (
    Principal,
    authenticate,
    staff_principal,
    token_usable,
)

TOUCH_SECONDS = 15


def _rowcount(result: object) -> int:
    """Rows hit by a bulk DELETE (``Session.execute`` is typed as a plain ``Result``)."""
    return result.rowcount if isinstance(result, CursorResult) else 0


@dataclass(frozen=True, slots=True)
class StaffLogin:
    """A resolved session: who it is, and the raw id (needed to derive the CSRF token)."""

    principal: Principal
    session_id: str


def start(
    session: Session,
    *,
    token: str,
    service_token: str,
    max_hours: int,
    idle_minutes: int,
    now: datetime | None = None,
) -> StaffLogin | None:
    """Open a session for a valid staff token; None for anything else (service token too)."""
    principal = authenticate(session, token=token, service_token=service_token, now=now)
    if principal is None or not principal.is_staff or principal.token_id is None:
        return None
    assert principal.user_id is not None
    now = now or utcnow()
    purge_expired(session, idle_minutes=idle_minutes, now=now)
    session_id = new_session_id()
    session.add(
        StaffSession(
            session_hash=hash_token(session_id),
            user_id=principal.user_id,
            token_id=principal.token_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=max_hours),
        )
    )
    session.commit()
    return StaffLogin(principal=principal, session_id=session_id)


def resolve(
    session: Session, *, session_id: str, idle_minutes: int, now: datetime | None = None
) -> StaffLogin | None:
    """The login behind a cookie's session id, or None (and the row deleted) when it ended."""
    if not session_id:
        return None
    row = session.scalars(
        select(StaffSession).where(StaffSession.session_hash == hash_token(session_id))
    ).first()
    if row is None:
        return None
    now = now or utcnow()
    if (
        row.expires_at <= now
        or row.last_seen_at <= now - timedelta(minutes=idle_minutes)
        or not token_usable(row.token, now=now)
    ):
        session.delete(row)
        session.commit()
        return None
    if now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        row.last_seen_at = now
        session.commit()
    return StaffLogin(principal=staff_principal(row.token), session_id=session_id)


def end(session: Session, *, session_id: str) -> bool:
    """Logout: delete the session server-side. True when there was one."""
    deleted = _rowcount(
        session.execute(
            delete(StaffSession).where(StaffSession.session_hash == hash_token(session_id))
        )
    )
    session.commit()
    return bool(deleted)


def end_for_token(session: Session, *, token_id: int) -> int:
    """Delete every session opened with a token (the caller commits)."""
    return _rowcount(session.execute(delete(StaffSession).where(StaffSession.token_id == token_id)))


def purge_expired(session: Session, *, idle_minutes: int, now: datetime | None = None) -> int:
    """Delete sessions past their absolute end or idle timeout (the caller commits)."""
    now = now or utcnow()
    return _rowcount(
        session.execute(
            delete(StaffSession).where(
                or_(
                    StaffSession.expires_at <= now,
                    StaffSession.last_seen_at <= now - timedelta(minutes=idle_minutes),
                )
            )
        )
    )
