"""Dependencies shared by the routes, as ``Annotated`` aliases.

``SessionDep``: a database session per request. ``CurrentPrincipal``: whoever presented a valid
bearer token (401 otherwise). ``ServicePrincipal``: only the action server's service token
(403 for staff). ``StaffPrincipal``: only staff users (403 for the service token).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from handover_api.core.config import Settings
from handover_api.services.principals import Principal, authenticate

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="Service token of the action server, or a staff user's token.",
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.session_factory() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_current_principal(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    principal = authenticate(
        session,
        token=credentials.credentials,
        service_token=settings.VOORDEUR_SERVICE_TOKEN.get_secret_value(),
    )
    if principal is None:
        raise _unauthorized("invalid or revoked token")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


def require_service(principal: CurrentPrincipal) -> Principal:
    if not principal.is_service:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="only the Voordeur action server (service token) may do this",
        )
    return principal


def require_staff(principal: CurrentPrincipal) -> Principal:
    if not principal.is_staff or not principal.organisation:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="only staff users of an organisation may do this",
        )
    return principal


ServicePrincipal = Annotated[Principal, Depends(require_service)]
StaffPrincipal = Annotated[Principal, Depends(require_staff)]
