"""Who is calling: the action server (service principal) or a staff user of one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.security import hash_token, tokens_equal
from handover_api.models import ApiToken, StaffUser


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["service", "staff"]
    username: str
    display_name: str
    organisation: str | None = None
    team: str | None = None
    user_id: int | None = None

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


def authenticate(session: Session, *, token: str, service_token: str) -> Principal | None:
    """The principal for a bearer token, or None when the token is unknown or revoked."""
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
            StaffUser.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    user = row.user
    return Principal(
        kind="staff",
        username=user.username,
        display_name=user.display_name,
        organisation=user.organisation,
        team=user.team,
        user_id=user.id,
    )
