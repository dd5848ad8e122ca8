"""Staff users and their personal bearer tokens (only SHA-256 hashes are stored).

A token is shown once when it is made and ends at ``expires_at`` (``VOORDEUR_TOKEN_DAYS``) or
when it is revoked; revoking also ends every staff page session opened with it, so a revoked
token stops working on the pages at once, not only on the API. A revoked token is never made
valid again (``issue_token`` refuses), so a fixed demo token cannot come back by re-seeding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.security import hash_token, new_token
from handover_api.models import ROLES, ApiToken, StaffUser, utcnow
from handover_api.services import sessions

DEFAULT_TOKEN_DAYS = 90


class UserError(ValueError):
    """A user or token cannot be created or found."""


class TokenRevokedError(UserError):
    """The (fixed) token was revoked; it stays revoked."""


def get_user(session: Session, *, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def create_user(
    session: Session,
    *,
    username: str,
    organisation: str,
    display_name: str,
    team: str | None = None,
    role: str = "staff",
) -> StaffUser:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if get_user(session, username=username) is not None:
        raise UserError(f"user {username!r} already exists")
    user = StaffUser(
        username=username,
        organisation=organisation,
        display_name=display_name,
        team=team,
        role=role,
    )
    session.add(user)
    session.flush()
    return user


def find_token(session: Session, *, token: str) -> ApiToken | None:
    """The stored row of a clear-text token (looked up by its hash)."""
    return session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()


def issue_token(
    session: Session,
    *,
    user: StaffUser,
    token: str | None = None,
    days: int = DEFAULT_TOKEN_DAYS,
    now: datetime | None = None,
) -> str:
    """Store the hash of ``token`` (a fresh random one by default) for ``user``; return it.

    Idempotent for a given fixed token: it is stored once, and its expiry is left alone. A
    fixed token that was revoked raises ``TokenRevokedError`` instead of coming back to life.
    """
    if days < 1:
        raise UserError("a token must be valid for at least 1 day")
    token = token or new_token()
    existing = find_token(session, token=token)
    if existing is not None:
        if existing.user_id != user.id:
            raise UserError("this token is already in use by another user")
        if existing.revoked_at is not None:
            raise TokenRevokedError(
                f"token {existing.id} of {user.username!r} was revoked and stays revoked"
            )
        return token
    now = now or utcnow()
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def list_tokens(session: Session, *, username: str | None = None) -> Sequence[ApiToken]:
    """Tokens (never their value), of one user or of everybody, oldest first."""
    query = select(ApiToken).join(ApiToken.user).order_by(ApiToken.id)
    if username is not None:
        query = query.where(StaffUser.username == username)
    return session.scalars(query).all()


def _revoke(session: Session, token: ApiToken, now: datetime) -> bool:
    sessions.end_for_token(session, token_id=token.id)
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    return True


def revoke_token(session: Session, *, token_id: int, now: datetime | None = None) -> ApiToken:
    """Revoke one token and end its staff page sessions. Revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise UserError(f"no token with id {token_id}")
    _revoke(session, token, now or utcnow())
    session.flush()
    return token


def revoke_all(session: Session, *, user: StaffUser, now: datetime | None = None) -> int:
    """Revoke every token of ``user`` (and so end all their sessions); the number newly revoked."""
    now = now or utcnow()
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    count = sum(_revoke(session, token, now) for token in rows)
    session.flush()
    return count
