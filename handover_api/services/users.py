"""Staff users and their bearer tokens (only SHA-256 hashes are stored)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.security import hash_token, new_token
from handover_api.models import ApiToken, StaffUser


class UserError(ValueError):
    """A user cannot be created or found."""


def get_user(session: Session, *, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def create_user(
    session: Session,
    *,
    username: str,
    organisation: str,
    display_name: str,
    team: str | None = None,
) -> StaffUser:
    if get_user(session, username=username) is not None:
        raise UserError(f"user {username!r} already exists")
    user = StaffUser(
        username=username, organisation=organisation, display_name=display_name, team=team
    )
    session.add(user)
    session.flush()
    return user


def issue_token(session: Session, *, user: StaffUser, token: str | None = None) -> str:
    """Store the hash of ``token`` (a fresh random one by default) for ``user``; return it.

    Idempotent for a given fixed token: it is stored once.
    """
    token = token or new_token()
    digest = hash_token(token)
    existing = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if existing is not None:
        if existing.user_id != user.id:
            raise UserError("this token is already in use by another user")
        existing.revoked_at = None
        return token
    session.add(ApiToken(user_id=user.id, token_hash=digest))
    session.flush()
    return token
