"""Where a handover goes: a pure function of what the conversation revealed and the
municipality's configuration (the region's access model, see shared/contract/regions.md).

1. A crisis goes to the municipality's local team, urgent — they can act tonight.
2. Problems on several life domains go, as one case, to the local team: the coordination
   ("regie": 1 gezin, 1 plan, 1 regisseur) lies locally.
3. Otherwise the service asked about decides: work and income to the regional organisation,
   support to the local team, exactly as the municipality configured it (cafetariamodel).
A threatened eviction or cut-off of energy/water makes any handover urgent: the law gives the
municipality 3 working days for a first conversation then.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from rasa_sdk import Tracker

from actions.regions import Destination, RegionConfig
from actions.signals import SERVICE_FOR_REGELING, requested_service

__all__ = [
    "SERVICE_FOR_REGELING",
    "SERVICE_LABELS",
    "Route",
    "is_multi_problem",
    "route",
    "route_for",
    "who_receives",
]

SERVICE_LABELS = {
    "information": "informatie en advies",
    "bijstand_intake": "een bijstandsuitkering",
    "bijzondere_bijstand": "bijzondere bijstand",
    "minimaregelingen": "minimaregelingen",
    "schuldhulp": "schuldhulpverlening",
    "wmo": "ondersteuning vanuit de Wmo",
    "jeugd": "jeugdhulp",
    "werk": "werk en re-integratie",
}
ORDINARY_WORK_AND_INCOME = frozenset({"inkomen", "werk_opleiding"})


@dataclass(frozen=True)
class Route:
    level: str
    organisation: str
    team: str
    organisation_name: str
    team_name: str
    reason: str
    priority: str

    def destination(self) -> dict[str, str]:
        """The `destination` object of the handover contract."""
        return {
            "level": self.level,
            "organisation": self.organisation,
            "team": self.team,
            "reason": self.reason,
        }


def is_multi_problem(domains: Iterable[str]) -> bool:
    """Two or more life domains, except income + work alone (the ordinary question)."""
    found = set(domains)
    return len(found) >= 2 and not found <= ORDINARY_WORK_AND_INCOME


def route(
    *,
    regions: RegionConfig,
    municipality_code: str,
    service: str | None,
    domains: Iterable[str] = (),
    crisis_type: str | None = None,
    urgent_signal: bool = False,
) -> Route:
    municipality = regions.municipality(municipality_code)
    domains = sorted(set(domains))
    priority = "urgent" if crisis_type or urgent_signal else "normal"
    if crisis_type:
        reason = (
            f"Crisissignaal ({crisis_type.replace('_', ' ')}): het lokale team van "
            f"{municipality.name} kan direct handelen."
        )
        dest = _local(regions, municipality_code, "wmo")
    elif is_multi_problem(domains):
        named = ", ".join(d.replace("_", " ") for d in domains)
        reason = (
            f"Problemen op meerdere leefgebieden ({named}): de regie ligt bij het lokale team "
            f"van {municipality.name}."
        )
        dest = _local(regions, municipality_code, "wmo")
    else:
        chosen = service or "information"
        dest = regions.destination_for(municipality_code, chosen)
        reason = (
            f"Vraag over {SERVICE_LABELS.get(chosen, chosen)}: in {municipality.name} "
            f"handelt {dest.organisation_name} dit af."
        )
    if urgent_signal and not crisis_type:
        reason += " Urgent: dreigende huisuitzetting of afsluiting van energie of water."
    return Route(
        level=dest.level,
        organisation=dest.organisation,
        team=dest.team,
        organisation_name=dest.organisation_name,
        team_name=dest.team_name,
        reason=reason,
        priority=priority,
    )


def _local(regions: RegionConfig, municipality_code: str, service: str) -> Destination:
    """The municipality's own local team, whatever the service's configured level."""
    municipality = regions.municipality(municipality_code)
    dest = regions.destination_for(municipality_code, service)
    if dest.level == "local":
        return dest
    ref = municipality.local_team
    return regions.destination_for_team(ref.organisation, ref.team)


def route_for(
    tracker: Tracker, regions: RegionConfig, municipality_code: str | None = None
) -> Route:
    """The route of this conversation as it stands (the municipality from the slot unless
    named)."""
    return route(
        regions=regions,
        municipality_code=municipality_code or tracker.get_slot("gemeente_code"),
        service=requested_service(tracker),
        domains=tracker.get_slot("leefgebieden") or [],
        crisis_type=tracker.get_slot("crisis_type"),
        urgent_signal=bool(tracker.get_slot("urgent_signal")),
    )


def who_receives(chosen: Route) -> str:
    """'Senzer', or 'het sociaal team Helmond (Gemeente Helmond)': the organisation only when
    the team's name does not already say it."""
    team, organisation = chosen.team_name, chosen.organisation_name
    if organisation.lower() in team.lower() or team.lower() in organisation.lower():
        return team
    return f"{team} ({organisation})"
