"""Who is calling: the action server (service principal) or a staff user of one organisation.

A personal token counts only while it is not revoked, not past its ``expires_at`` and its user
is active; the service token (from the settings) has no expiry here: it is rotated by changing
the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.security import hash_token, tokens_equal
from handover_api.models import ApiToken, StaffUser, utcnow


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["service", "staff"]
    username: str
    display_name: str
    organisation: str | None = None
    team: str | None = None
    user_id: int | None = None
    role: str = "staff"
    # The personal token this principal authenticated with (staff sessions end with it).
    token_id: int | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def actor(self) -> str:
        """How the principal appears in the audit log."""
        return f"{self.kind}:{self.username}"


SERVICE_PRINCIPAL = Principal(kind="service", username="action-server", display_name="Voordeur")


def staff_principal(token: ApiToken) -> Principal:
    """The principal of a staff user, as seen through one of their tokens."""
    user = token.user
    return Principal(
        kind="staff",
        username=user.username,
        display_name=user.display_name,
        organisation=user.organisation,
        team=user.team,
        user_id=user.id,
        role=user.role,
        token_id=token.id,
    )


def token_usable(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Not revoked, not expired, and its user still active."""
    now = now or utcnow()
    return token.revoked_at is None and token.expires_at > now and token.user.active


def authenticate(
    session: Session, *, token: str, service_token: str, now: datetime | None = None
) -> Principal | None:
    """The principal for a bearer token, or None when it is unknown, revoked or expired."""
    if not token:
        return None
    if tokens_equal(token, service_token):
        return SERVICE_PRINCIPAL
    row = session.scalars(
        select(ApiToken)
        .join(ApiToken.user)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > (now or utcnow()),
            StaffUser.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    return staff_principal(row)
