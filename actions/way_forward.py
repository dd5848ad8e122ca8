"""A way forward at every end of a conversation, and what happens after a handover.

A resident who says "nee", "stop" or "laat maar" must not be left with "Heeft u nog een andere
vraag?": they get the phone number, website or opening hours of their own organisation — but
only details the region configuration marks as verified; otherwise neutral wording that is
true everywhere. After a handover they hear when to expect contact (the receiving team's
configured service level and, when the team is closed now, when it opens again), what to have
at hand, and how to reach the team sooner. Nothing here says that someone answers in the chat.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import yaml

from actions.config import get_settings
from actions.regions import Contact, Municipality, Organisation, RegionConfig, Team
from common.opening_hours import LOCAL_TIME, holiday_name, spoken_moment

LATER_HINT = "U kunt hier ook later altijd 'medewerker' typen."
NEUTRAL = (
    "U kunt ook zelf contact opnemen met uw gemeente: het telefoonnummer en de openingstijden "
    "staan op de website van uw gemeente."
)


def _verified(contact: Contact | None, field: str) -> str:
    return (contact.verified(field) or "") if contact is not None else ""


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def _website(url: str) -> str:
    return url.removeprefix("https://").removeprefix("http://").rstrip("/")


def contact_line(name: str, *contacts: Contact | None) -> str | None:
    """'Senzer: bel 0492 123456 (ma-vr 9.00-17.00) of kijk op www.senzer.nl.' from the
    first verified details among ``contacts``; None when nothing is verified."""
    phone = next((p for c in contacts if (p := _verified(c, "phone"))), "")
    website = next((w for c in contacts if (w := _verified(c, "website"))), "")
    hours = next((h for c in contacts if (h := _verified(c, "hours"))), "")
    address = next((a for c in contacts if (a := _verified(c, "address"))), "")
    walk_in = next((w for c in contacts if (w := _verified(c, "walk_in"))), "")
    parts = []
    if phone:
        parts.append(f"bel {phone}" + (f" ({hours})" if hours else ""))
    if website:
        parts.append(f"kijk op {_website(website)}")
    if address:
        parts.append(f"loop binnen: {address}" + (f" ({walk_in})" if walk_in else ""))
    if not parts:
        return None
    return f"{name}: " + " of ".join(parts) + "."


def _named(organisation: Organisation, team: Team) -> str:
    """Whose details are shown: the team's name when the team has verified details of its own
    (e.g. Zorg in Deurne), else the organisation's."""
    if team.contact is not None and any(
        team.contact.verified(f) for f in ("phone", "website", "address")
    ):
        return team.name[:1].upper() + team.name[1:]
    return organisation.name


def _destination_parts(
    regions: RegionConfig, municipality: Municipality, service: str | None
) -> tuple[Organisation, Team]:
    dest = regions.destination_for(municipality.code, service or "information")
    organisation = regions.organisation(dest.organisation)
    return organisation, organisation.team(dest.team)


def own_contact(
    regions: RegionConfig, municipality: Municipality | None, service: str | None
) -> str | None:
    """Verified contact details of who handles ``service`` for the municipality, else of the
    municipality itself; None when nothing verified is configured."""
    if municipality is None:
        return None
    lines = []
    if service and service != "information":
        organisation, team = _destination_parts(regions, municipality, service)
        line = contact_line(_named(organisation, team), team.contact, organisation.contact)
        if line:
            lines.append(line)
    if not lines:
        line = contact_line(f"Gemeente {municipality.name}", municipality.contact)
        if line:
            lines.append(line)
    return " ".join(lines) or None


def way_forward(
    regions: RegionConfig, municipality: Municipality | None, service: str | None = None
) -> str:
    """One or two sentences that leave the resident with somewhere to go."""
    contact = own_contact(regions, municipality, service)
    if contact:
        return f"Wilt u later toch hulp? {contact} {LATER_HINT}"
    if municipality is not None:
        return (
            f"Wilt u later toch hulp? Het telefoonnummer en de openingstijden staan op de "
            f"website van de gemeente {municipality.name}. {LATER_HINT}"
        )
    return f"{NEUTRAL} {LATER_HINT}"


@lru_cache(maxsize=2)
def _prepare(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def what_to_have_at_hand(service: str | None, crisis: bool) -> str:
    """From data/prepare.yml: what helps the professional's first call, per service."""
    data = _prepare(str(get_settings().data_dir / "prepare.yml"))
    key = "crisis" if crisis else (service or "default")
    items = data.get(key) or data["default"]
    return "Houd bij de hand: " + ", ".join(items) + "."


def current_time() -> datetime:
    """Now, in Amsterdam time: the one clock the texts about a team's opening hours read
    (tests replace it with ``monkeypatch.setattr(way_forward, "current_time", ...)``)."""
    return datetime.now(LOCAL_TIME)


def _same_day(one: datetime, other: datetime) -> bool:
    return one.astimezone(LOCAL_TIME).date() == other.astimezone(LOCAL_TIME).date()


def closed_notice(
    regions: RegionConfig, organisation_id: str, team_id: str, now: datetime
) -> str | None:
    """That the team is closed at ``now`` (evening, weekend, public holiday, its own closing
    day) and when it starts on the question; None when it is open, or when no opening is
    found (then nothing is promised)."""
    calendar = regions.team_calendar(organisation_id, team_id)
    if calendar.is_open(now):
        return None
    opening = calendar.next_opening(now)
    if opening is None:
        return None
    today = now.astimezone(LOCAL_TIME).date()
    holiday = holiday_name(today)
    if holiday:
        closed = f"Vandaag is het {holiday}: het team is gesloten"
    elif today in calendar.closed_days:
        closed = "Het team is vandaag gesloten"
    else:
        closed = "Het team is nu gesloten"
    # One short sentence (it goes by SMS too), GSM-7 only; nothing about answering in the chat.
    return f"{closed} en begint {spoken_moment(opening, now)} met uw vraag."


def expected_contact(
    regions: RegionConfig,
    organisation_id: str,
    team_id: str,
    urgent: bool,
    now: datetime | None = None,
) -> str:
    """When the team will contact the resident: the team's configured service level (our
    configuration, data/regions), with its telephone hours when a public page states them;
    when the team is closed at ``now`` (default: ``current_time()``; a naive moment is read
    as Amsterdam time), also when it starts on the question (``closed_notice``)."""
    if now is None:
        now = current_time()
    elif now.tzinfo is None:
        now = now.replace(tzinfo=LOCAL_TIME)
    days = regions.response_working_days(organisation_id, team_id, urgent=urgent)
    hours = regions.team_hours(organisation_id, team_id)
    if urgent:
        if days == 0:
            # "vandaag nog" only when the team still works today (now or later today)
            opening = regions.team_calendar(organisation_id, team_id).next_opening(now)
            works_today = opening is not None and _same_day(opening, now)
            soon = ", vandaag nog" if works_today else ""
        elif days == 1:
            soon = ", uiterlijk de volgende werkdag"
        else:
            soon = f", uiterlijk binnen {days} werkdagen"
        when = f"U krijgt voorrang: zij nemen zo snel mogelijk contact met u op{soon}"
    else:
        when = f"Zij nemen binnen {days} werkdag{'en' if days > 1 else ''} contact met u op"
    if hours:
        when += f" (bereikbaar {hours})"
    closed = closed_notice(regions, organisation_id, team_id, now)
    return when + "." + (f" {closed}" if closed else "")


def sooner(regions: RegionConfig, organisation_id: str, team_id: str) -> str:
    """How to reach the receiving team sooner, with verified details only."""
    organisation = regions.organisation(organisation_id)
    team = organisation.team(team_id)
    line = contact_line(_named(organisation, team), team.contact, organisation.contact)
    if line:
        return f"Eerder contact nodig? {line}"
    return "Eerder contact nodig? Bel uw gemeente en noem uw kenmerk."


def shelter_route(regions: RegionConfig, municipality: Municipality | None) -> str:
    """Where someone without a bed tonight can go: the verified night shelter / maatschappelijke
    opvang access point of their municipality or region, else neutral wording that is true
    everywhere."""
    route = regions.night_shelter(municipality.code) if municipality is not None else None
    if route is not None:
        name = route.name or f"de maatschappelijke opvang van {route.centrumgemeente}"
        parts = [
            f"bel {route.phone}" if route.phone else "",
            f"ga naar {route.address}" if route.address else "",
            f"kijk op {_website(route.website)}" if route.website else "",
        ]
        how = " of ".join(p for p in parts if p)
        sentences = [f"Voor een slaapplek vannacht: {name}."]
        sentences += [_sentence(t) for t in (route.hours, route.walk_in) if t]
        sentences.append(_sentence(how))
        return " ".join(sentences)
    return (
        "Voor een slaapplek vannacht (nachtopvang of maatschappelijke opvang) helpt uw gemeente. "
        "Buiten kantoortijd: kijk op de website van uw gemeente onder 'dakloos' of "
        "'maatschappelijke opvang', of bel bij gevaar 112."
    )


def outside_text(place: str) -> str:
    """A place outside the four regions: say so, and point to that municipality."""
    return (
        f"{place} ligt niet in onze regio. Ik kan uw vraag daarom niet doorgeven. De gemeente "
        f"{place} helpt u verder: het telefoonnummer en de openingstijden staan op de website "
        f"van de gemeente {place}."
    )
