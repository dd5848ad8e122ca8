"""One pre-filled application per regeling, typed as residents type, through the REST channel
against the trained model; each is read back from the handover API by the receiving
organisation with every field.

Every conversation also does one of the things that used to break a form: a side question in
the middle, a correction, a skipped question, numbered choices on SMS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Chat, staff_token
from voordeur_cli.stack import StackConfig

REFERENCE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")


@dataclass(frozen=True)
class Application:
    regeling: str
    channel: str
    organisation: str
    turns: tuple[str, ...]
    fields: dict[str, Any]
    complete: bool


APPLICATIONS = [
    Application(
        regeling="bijstand",
        channel="web",
        organisation="peel61",
        turns=(
            "ik wil bijstand aanvragen, mijn ww stopt volgende maand",
            "Helmond",
            "jan de vries",
            "15-3-1988",
            # a side question in the middle: answered, then the form goes on
            "hoe lang duurt het voor ik een besluit krijg?",
            "5701 AB 12",
            "ik woon alleen",
            "ww",
            "€ 650,-",
            "bellen",
            "morgen na 2 uur",
            "06 12345678",
            "ja klopt",
            "ja",
        ),
        fields={
            "naam": "Jan de Vries",
            "geboortedatum": "1988-03-15",
            "adres": {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": None},
            "huishouden": {
                "partner": False,
                "kinderen": 0,
                "leeftijden_kinderen": [],
                "andere_volwassenen": 0,
            },
            "inkomen": ["uitkering_uwv"],
            "woonlasten": "650.00",
            "contactvoorkeur": "phone",
            "gemeente": "Helmond",
            "telefoonnummer": "0612345678",
        },
        complete=True,
    ),
    Application(
        regeling="bijzondere_bijstand",
        channel="sms",
        organisation="peel61",
        turns=(
            "ik wil bijzondere bijstand aanvragen voor een wasmachine",
            "laarbeek",
            "weet ik niet",  # the amount may be skipped
            "samira el amrani",
            "3 januari 1975",
            "5741 AB 7a",
            "alleenstaande moeder van 3 kinderen (8, 11 en 15)",
            "1",  # numbered choice on SMS: 1. geen inkomen
            "na 15 uur",
            "0612345678",
            "1",
            "1",
        ),
        fields={
            "kosten_omschrijving": "wasmachine",
            "kosten_bedrag": None,
            "naam": "Samira el Amrani",
            "geboortedatum": "1975-01-03",
            "adres": {"postcode": "5741 AB", "huisnummer": 7, "toevoeging": "a"},
            "huishouden": {
                "partner": False,
                "kinderen": 3,
                "leeftijden_kinderen": [8, 11, 15],
                "andere_volwassenen": 0,
            },
            "inkomen": ["geen"],
            "contactvoorkeur": "sms",
            "gemeente": "Laarbeek",
        },
        complete=False,
    ),
    Application(
        regeling="schuldhulp",
        channel="web",
        organisation="peel61",
        turns=(
            "ik wil me aanmelden voor schuldhulp",
            "deurne",
            "de energie wordt afgesloten",
            "zo'n 3000 euro",
            "energie en huur",
            "Piet Jansen",
            "1-2-1990",
            "5751 AB 3",
            "mijn postcode klopt niet",  # a correction of an earlier answer
            "5752 AB 3",
            "met mijn vrouw en 2 kinderen van 3 en 5",
            "werk",
            "whatsapp",
            "maakt niet uit",
            "0612345678",
            "ja",
            "ja",
        ),
        fields={
            "dreiging": "afsluiting",
            "schuld_totaal": "3000.00",
            "schuldeisers": ["huur", "energie"],
            "naam": "Piet Jansen",
            "adres": {"postcode": "5752 AB", "huisnummer": 3, "toevoeging": None},
            "inkomen": ["loon"],
            "contactvoorkeur": "whatsapp",
            "gemeente": "Deurne",
        },
        complete=True,
    ),
    Application(
        regeling="wmo",
        channel="web",
        organisation="gemeente-helmond",
        turns=(
            "ik wil een wmo melding doen voor mijn moeder",
            "Helmond",
            "ze kan niet meer zelf douchen en het huishouden lukt niet meer",
            "Anne Smit",
            "weet ik niet",  # her birthday: a relative may not know
            "5702 AB 1",
            "ze woont alleen",
            "bellen",
            "na 15 uur",
            "0612345678",
            "ja",
            "ja",
        ),
        fields={
            "hulp_voor": "ander",
            "naam": "Anne Smit",
            "geboortedatum": None,
            "adres": {"postcode": "5702 AB", "huisnummer": 1, "toevoeging": None},
            "contactvoorkeur": "phone",
            "gemeente": "Helmond",
        },
        complete=False,
    ),
    Application(
        regeling="minimaregeling",
        channel="web",
        organisation="sociale-dienst-regio-alkmaar",
        turns=(
            "ik wil kwijtschelding aanvragen",
            "Heerhugowaard",
            "Fatima Yilmaz",
            "2-2-1985",
            "1703 AB 4",
            "met mijn 2 kinderen van 9 en 11",
            "bijstand",
            "bellen",
            "weet ik niet",
            "0612345678",
            "ja",
            "ja",
        ),
        fields={
            "minimaregeling_soort": "kwijtschelding",
            "naam": "Fatima Yilmaz",
            "inkomen": ["bijstand"],
            "contactmoment": None,
            "gemeente": "Dijk en Waard",
        },
        complete=False,
    ),
]


def _talk(chat: Chat, turns: tuple[str, ...]) -> list[str]:
    return [Chat.text(chat.say(turn)) for turn in turns]


@pytest.mark.parametrize("case", APPLICATIONS, ids=[a.regeling for a in APPLICATIONS])
def test_an_application_arrives_complete_with_every_field(
    stack: StackConfig, case: Application
) -> None:
    chat = Chat(stack, f"e2e-aanvraag-{case.regeling}-{stack.api_port}", channel=case.channel)
    replies = _talk(chat, case.turns)
    transcript = "\n---\n".join(f"> {t}\n{r}" for t, r in zip(case.turns, replies, strict=True))
    assert "Goed, ik zet uw" in replies[0], transcript
    assert "Dit heb ik genoteerd" in replies[-3], transcript  # the summary, then consent
    assert "Mag ik dit delen?" in replies[-2], transcript
    match = REFERENCE.search(replies[-1])
    assert match, transcript
    token = staff_token(stack, f"e2e-{case.regeling}", case.organisation)
    headers = {"Authorization": f"Bearer {token}"}
    items = httpx.get(
        f"{stack.api_url}/api/v1/handovers",
        headers=headers,
        params={"page_size": 100},
        timeout=10,
    ).json()["items"]
    (found,) = [h for h in items if h["reference"] == match.group(0)]
    detail = httpx.get(
        f"{stack.api_url}/api/v1/handovers/{found['id']}", headers=headers, timeout=10
    ).json()
    application = detail["application"]
    assert application["type"] == case.regeling, transcript
    assert application["complete"] is case.complete, (application, transcript)
    for name, value in case.fields.items():
        assert application["fields"].get(name) == value, (name, application, transcript)


def test_stop_in_the_middle_shares_nothing(stack: StackConfig) -> None:
    token = staff_token(stack, "e2e-stop", "peel61")
    headers = {"Authorization": f"Bearer {token}"}
    before = httpx.get(
        f"{stack.api_url}/api/v1/handovers", headers=headers, params={"page_size": 100}
    ).json()["total"]
    chat = Chat(stack, f"e2e-aanvraag-stop-{stack.api_port}")
    replies = _talk(chat, ("ik wil bijstand aanvragen", "Helmond", "Jan", "stop"))
    assert "Er is niets doorgegeven" in replies[-1], replies
    after = httpx.get(
        f"{stack.api_url}/api/v1/handovers", headers=headers, params={"page_size": 100}
    ).json()["total"]
    assert after == before
