"""/api/v1/stats: the dashboard's figures of the caller's organisation."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from handover_api.api.deps import DirectoryDep, OrganisationPrincipal, SessionDep, SettingsDep
from handover_api.schemas_review import StatsOut
from handover_api.services import stats
from handover_api.web.routes import DOMAIN_LABELS

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("", response_model=StatsOut)
def read_stats(
    session: SessionDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    principal: OrganisationPrincipal,
    since: date | None = None,
    until: date | None = None,
    date_from: Annotated[date | None, Query(alias="from", include_in_schema=False)] = None,
    date_to: Annotated[date | None, Query(alias="to", include_in_schema=False)] = None,
) -> StatsOut:
    """Conversations per day, fallback rate, handovers per destination and life domain, the
    share that needed a person, median times to claim and first contact, handovers outside
    opening hours and the intents most often marked misunderstood (``services/stats.py``).

    ``since``/``until`` (contract v2; ``from``/``to`` are accepted too): local dates
    (Europe/Amsterdam), both included; default the last 30 days.
    Aggregates only, no personal data.
    """
    assert principal.organisation is not None
    try:
        figures = stats.compute(
            session,
            directory=directory,
            organisation=principal.organisation,
            date_from=since or date_from,
            date_to=until or date_to,
            domain_labels=DOMAIN_LABELS,
        )
    except stats.StatsError as exc:
        raise HTTPException(422, str(exc)) from exc
    return StatsOut.of(principal.organisation, figures)
