"""Dependencies shared by the routes, as ``Annotated`` aliases.

``SessionDep``: a database session per request. ``CurrentPrincipal``: whoever presented a valid
bearer token (401 otherwise). ``ServicePrincipal``: only the action server's service token.
``StaffPrincipal``: only staff users with the staff role. ``AuditorPrincipal``: only auditors.
``ReviewerPrincipal``: front-office reviewers. ``OrganisationPrincipal``: staff or reviewers.
``DirectoryDep``: the region configuration (valid destinations). ``CatalogueDep``: the field
catalogue of pre-filled applications (``data/applications.yml``).

Every refused attempt (401, 403) is written to the audit log before the error is raised, so an
auditor sees who tried what; the detail holds the method and route, never the token.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from applications.catalogue import Catalogue
from handover_api.core.config import Settings
from handover_api.services import applications, audit
from handover_api.services.directory import Directory, load_directory
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


def get_directory(settings: Annotated[Settings, Depends(get_settings)]) -> Directory:
    return load_directory(settings.VOORDEUR_DATA_DIR)


def get_catalogue(settings: Annotated[Settings, Depends(get_settings)]) -> Catalogue:
    return applications.load(settings.VOORDEUR_DATA_DIR)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
DirectoryDep = Annotated[Directory, Depends(get_directory)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]


def refuse(
    session: Session,
    request: Request,
    *,
    actor: str,
    status_code: int,
    detail: str,
    headers: dict[str, str] | None = None,
) -> HTTPException:
    """Audit a refused attempt (committed at once) and return the HTTP error to raise."""
    session.rollback()
    audit.record_refusal(
        session,
        actor=actor,
        method=request.method,
        route=audit.route_of(request),
        status_code=status_code,
    )
    session.commit()
    return HTTPException(status_code=status_code, detail=detail, headers=headers)


def get_current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise refuse(
            session,
            request,
            actor="anonymous",
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing bearer token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(
        session,
        token=credentials.credentials,
        service_token=settings.VOORDEUR_SERVICE_TOKEN.get_secret_value(),
    )
    if principal is None:
        raise refuse(
            session,
            request,
            actor="unknown-token",
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="invalid, expired or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


def _forbidden(
    session: Session, request: Request, principal: Principal, detail: str
) -> HTTPException:
    return refuse(
        session,
        request,
        actor=principal.actor,
        status_code=status.HTTP_403_FORBIDDEN,
        detail=detail,
    )


def require_service(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Principal:
    if not principal.is_service:
        raise _forbidden(
            session,
            request,
            principal,
            "only the Voordeur action server (service token) may do this",
        )
    return principal


def require_staff(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Principal:
    if not principal.is_staff or not principal.organisation or principal.role != "staff":
        raise _forbidden(
            session, request, principal, "only staff users of an organisation may do this"
        )
    return principal


def require_reviewer(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Principal:
    """Front-office staff: read the conversations of their organisation's municipalities."""
    if not principal.is_staff or not principal.organisation or principal.role != "reviewer":
        raise _forbidden(
            session, request, principal, "only front-office reviewers of an organisation may"
        )
    return principal


def require_staff_or_reviewer(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Principal:
    """Case workers and reviewers of an organisation (statistics of that organisation)."""
    if (
        not principal.is_staff
        or not principal.organisation
        or principal.role not in ("staff", "reviewer")
    ):
        raise _forbidden(session, request, principal, "only staff of an organisation may do this")
    return principal


def require_auditor(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Principal:
    if not principal.is_staff or principal.role != "auditor":
        raise _forbidden(session, request, principal, "only auditors may read the audit log")
    return principal


ServicePrincipal = Annotated[Principal, Depends(require_service)]
StaffPrincipal = Annotated[Principal, Depends(require_staff)]
AuditorPrincipal = Annotated[Principal, Depends(require_auditor)]
ReviewerPrincipal = Annotated[Principal, Depends(require_reviewer)]
OrganisationPrincipal = Annotated[Principal, Depends(require_staff_or_reviewer)]
