"""Pre-filled applications, turn by turn through the handover form's validation and ask
actions (as Rasa core would call them), against the fake handover API.

`FormDriver` plays Rasa core's part: it runs the form's validation action on each message,
applies the slot events, asks the next requested slot with its ask action, and submits when
the form is done. What a resident sees is in `said`.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import application
from actions.application import SKIPPED, ActionAskAanvraagBevestigd, ActionAskAanvraagType
from actions.dialogue import start_handover
from actions.handover import (
    ActionAskConsentGiven,
    ActionAskContactPhone,
    ActionSubmitHandover,
    ValidateHandoverForm,
    current_consent,
)
from applications.catalogue import load_catalogue

ASK_ACTIONS: dict[str, Any] = {
    "aanvraag_type": ActionAskAanvraagType(),
    "aanvraag_bevestigd": ActionAskAanvraagBevestigd(),
    "consent_given": ActionAskConsentGiven(),
    "contact_phone": ActionAskContactPhone(),
    **{cls().name().removeprefix("action_ask_"): cls() for cls in application.ASK_ACTIONS},
}


# The form as the domain declares it (rasa-sdk compares the computed slots with it).
with open("bot/domain/handover.yml", encoding="utf-8") as _file:
    DOMAIN = {"forms": yaml.safe_load(_file)["forms"]}


class FormDriver:
    """Rasa core's form loop, small: validate, apply, ask, submit."""

    def __init__(self, channel: str = "web", slots: dict[str, Any] | None = None) -> None:
        self.channel = channel
        self.slots: dict[str, Any] = dict(slots or {})
        self.events: list[dict[str, Any]] = []
        self.said: list[str] = []
        self.buttons: list[list[str]] = []
        self.active = False
        self.submitted: list[dict[str, Any]] = []

    def _tracker(self, text: str, intent: str, entities: list[dict[str, Any]]) -> Tracker:
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities,
            "metadata": {"channel": self.channel},
        }
        self.events.append(
            {"event": "user", "text": text, "timestamp": time.time(), "parse_data": latest}
        )
        return Tracker(
            sender_id="application-test",
            slots=dict(self.slots),
            latest_message=latest,
            events=list(self.events),
            paused=False,
            followup_action=None,
            active_loop={"name": "handover_form"} if self.active else {},
            latest_action_name="action_listen",
        )

    def _collect(self, dispatcher: CollectingDispatcher) -> None:
        for message in dispatcher.messages:
            text = message.get("text") or message.get("response") or ""
            if message.get("reference"):
                text += f" {message['reference']}"
            self.said.append(text)
            self.events.append({"event": "bot", "text": text, "timestamp": time.time()})
            if message.get("buttons"):
                self.buttons.append([b["title"] for b in message["buttons"]])

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]

    async def _ask_or_submit(self, dispatcher: CollectingDispatcher) -> None:
        requested = self.slots.get("requested_slot")
        tracker = self._tracker_now()
        if requested is None:
            self.active = False
            events = await ActionSubmitHandover().run(dispatcher, tracker, {})
            self._apply(events)
            return
        if requested == "gemeente_code":
            dispatcher.utter_message(text="In welke gemeente woont u?")
            return
        await ASK_ACTIONS[requested].run(dispatcher, tracker, {})

    def _tracker_now(self) -> Tracker:
        last = next(e for e in reversed(self.events) if e["event"] == "user")
        return Tracker(
            sender_id="application-test",
            slots=dict(self.slots),
            latest_message=last["parse_data"],
            events=list(self.events),
            paused=False,
            followup_action=None,
            active_loop={"name": "handover_form"} if self.active else {},
            latest_action_name="handover_form",
        )

    async def start(
        self,
        text: str,
        regeling: str | None = None,
        intent: str = "apply",
        gemeente: str | None = None,
    ) -> FormDriver:
        """The message that starts the form, with the entities the NLU finds in it."""
        entities = [{"entity": "regeling", "value": regeling}] if regeling else []
        if gemeente:
            entities.append({"entity": "gemeente", "value": gemeente})
        if regeling:
            self.slots["regeling"] = regeling
        tracker = self._tracker(text, intent, entities)
        dispatcher = CollectingDispatcher()
        self._apply(start_handover(dispatcher, tracker))
        self.active = True
        await self._step(dispatcher, self._tracker_now())
        return self

    async def say(
        self, text: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None
    ) -> bool:
        """The resident's message; False when the form stepped aside (a rule answers)."""
        tracker = self._tracker(text, intent, entities or [])
        return await self._step(CollectingDispatcher(), tracker)

    async def _step(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        events = await ValidateHandoverForm().run(dispatcher, tracker, DOMAIN)
        requested = self.slots.get("requested_slot")
        filled = [
            e for e in events if e.get("event") == "slot" and e.get("name") != "requested_slot"
        ]
        if requested and not filled:
            # Rasa core rejects the form's turn: its events are dropped and the rules answer.
            self._collect(dispatcher)
            return False
        self._apply(events)
        if not any(e.get("name") == "requested_slot" for e in events):
            # The computed slots are the domain's: core requests the next one itself.
            declared = DOMAIN["forms"]["handover_form"]["required_slots"]
            self.slots["requested_slot"] = next(
                (slot for slot in declared if self.slots.get(slot) is None), None
            )
        await self._ask_or_submit(dispatcher)
        self._collect(dispatcher)
        return True

    @property
    def asked(self) -> str | None:
        return self.slots.get("requested_slot")

    @property
    def last(self) -> str:
        return self.said[-1]


@pytest.fixture
def driver() -> FormDriver:
    return FormDriver()


def _sent(fake_api: Any) -> dict[str, Any]:
    (request,) = [r for r in fake_api.requests if r["path"] == "/api/v1/handovers"]
    return request["body"]


# --- the catalogue and the domain agree ----------------------------------------------------


def test_every_field_has_a_slot_and_an_ask_action_in_the_domain() -> None:
    with open("bot/domain/application.yml", encoding="utf-8") as file:
        domain = yaml.safe_load(file)
    catalogue = load_catalogue()
    for field in catalogue.fields.values():
        assert field.slot in domain["slots"], field.name
        assert f"action_ask_{field.slot}" in domain["actions"], field.name
    assert set(ASK_ACTIONS) >= {f.slot for f in catalogue.fields.values()}


def test_every_question_says_why_and_never_asks_a_bsn() -> None:
    for field in load_catalogue().fields.values():
        assert field.why.endswith(".") and len(field.why) < 90, field.name
        text = f"{field.question} {field.why} {field.question_for_other or ''}".lower()
        assert "bsn" not in text and "burgerservicenummer" not in text


# --- one application per regeling, start to reference ------------------------------------


async def test_bijzondere_bijstand_for_a_washing_machine_reuses_what_was_told(
    fake_api, driver
) -> None:
    await driver.start(
        "ik wil bijzondere bijstand aanvragen voor een wasmachine, ik woon in Helmond met mijn "
        "twee kinderen van 4 en 7",
        regeling="bijzondere_bijstand",
        gemeente="Helmond",
    )
    assert "aanvraag bijzondere bijstand klaar voor Senzer" in driver.said[0]
    assert "waarvoor" in driver.said[0] and "huishouden" in driver.said[0]
    # the municipality and the cost were told: the amount is the first question
    assert driver.asked == "aanvraag_kosten_bedrag"
    assert driver.last.startswith("Zo weet de medewerker om welk bedrag het gaat.")
    await driver.say("weet ik niet")
    assert driver.asked == "aanvraag_naam"
    await driver.say("ik ben samira el amrani")
    await driver.say("15-3-1988")
    await driver.say("5701ab 12")
    assert driver.asked == "aanvraag_inkomen"  # household was told in the first message
    await driver.say("werk en alimentatie")
    assert driver.asked == "aanvraag_contactvoorkeur"
    assert driver.buttons[-1] == ["bellen", "sms", "WhatsApp"]
    await driver.say("bellen")
    await driver.say("volgende week dinsdag na 2 uur")
    assert driver.asked == "contact_phone"
    await driver.say("06 12345678")
    assert driver.asked == "aanvraag_bevestigd"
    summary = driver.last
    for expected in (
        "Waarvoor: wasmachine",
        "Bedrag: weet ik niet",
        "Naam: Samira el Amrani",
        "Geboortedatum: 15 maart 1988",
        "Postcode en huisnummer: 5701 AB 12",
        "Huishouden: zonder partner, 2 kinderen (4 en 7 jaar)",
        "Inkomen: werk (loon), alimentatie",
        "Gemeente: Helmond",
        "Telefoon: 06 12345678",
    ):
        assert expected in summary, expected
    await driver.say("ja klopt")
    assert driver.asked == "consent_given"
    assert "Ik kan uw aanvraag doorgeven aan Senzer" in driver.last
    await driver.say("ja", intent="affirm")
    body = _sent(fake_api)
    assert body["consent"]["text_version"] == current_consent(None, True)[0]
    assert body["application"]["type"] == "bijzondere_bijstand"
    assert body["application"]["complete"] is False  # the amount was not known
    fields = body["application"]["fields"]
    assert fields["kosten_omschrijving"] == "wasmachine"
    assert fields["kosten_bedrag"] is None
    assert fields["naam"] == "Samira el Amrani"
    assert fields["geboortedatum"] == "1988-03-15"
    assert fields["adres"] == {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": None}
    assert fields["huishouden"]["kinderen"] == 2
    assert fields["huishouden"]["leeftijden_kinderen"] == [4, 7]
    assert fields["inkomen"] == ["loon", "alimentatie"]
    assert fields["gemeente"] == "Helmond" and fields["telefoonnummer"] == "0612345678"
    assert body["contact"]["name"] == "Samira el Amrani"
    assert body["contact"]["preferred"] == "phone"
    assert "dinsdag" in body["contact"]["best_time"]
    assert any("VD-" in said for said in driver.said[-3:])


async def test_schuldhulp_by_sms_with_numbered_choices_is_complete(fake_api) -> None:
    driver = FormDriver(channel="sms")
    await driver.start("ik wil me aanmelden voor schuldhulp", regeling="schuldhulp")
    await driver.say("Deurne")
    assert driver.asked == "aanvraag_dreiging"
    assert "\n1. uitzetting uit mijn huis\n2. afsluiting" in driver.last  # no buttons on SMS
    await driver.say("2")
    await driver.say("ongeveer 3000 euro")
    await driver.say("1, 2 en 8")
    assert driver.asked == "aanvraag_naam"
    await driver.say("Jan de Vries")
    await driver.say("3 januari 1975")
    await driver.say("5751 AB 3")
    await driver.say("met mijn vrouw en 1 kind van 3")
    await driver.say("ww")
    # on SMS the channel is the preference (told, not asked)
    assert driver.asked == "aanvraag_contactmoment"
    await driver.say("maakt niet uit")
    await driver.say("0612345678")
    assert "1. Ja\n2. Nee" in driver.last
    await driver.say("1", intent="affirm")
    await driver.say("1", intent="affirm")
    fields = _sent(fake_api)["application"]["fields"]
    assert _sent(fake_api)["application"]["complete"] is True
    assert fields["dreiging"] == "afsluiting"
    assert fields["schuld_totaal"] == "3000.00"
    assert fields["schuldeisers"] == ["huur", "energie", "incasso"]
    assert fields["huishouden"]["partner"] is True
    assert fields["contactvoorkeur"] == "sms"
    assert _sent(fake_api)["contact"]["preferred"] == "sms"


async def test_bijstand_melding_asks_what_bijstand_needs(fake_api, driver) -> None:
    await driver.start("ik wil bijstand aanvragen, mijn ww stopt", regeling="bijstand")
    await driver.say("Beverwijk")
    asked = []
    for answer in (
        "Piet Jansen",
        "1-2-1990",
        "1941 AB 5",
        "alleen",
        "ww",
        "650 per maand",
        "whatsapp",
        "ochtend",
        "0612345678",
    ):
        asked.append(driver.asked)
        await driver.say(answer)
    assert asked == [
        "aanvraag_naam",
        "aanvraag_geboortedatum",
        "aanvraag_adres",
        "aanvraag_huishouden",
        "aanvraag_inkomen",
        "aanvraag_woonlasten",
        "aanvraag_contactvoorkeur",
        "aanvraag_contactmoment",
        "contact_phone",
    ]
    await driver.say("ja")
    await driver.say("ja")
    application_sent = _sent(fake_api)["application"]
    assert application_sent["type"] == "bijstand" and application_sent["complete"] is True
    assert application_sent["fields"]["woonlasten"] == "650.00"
    assert _sent(fake_api)["destination"]["organisation"] == "werkplein-ijmond"


async def test_wmo_for_a_mother_asks_her_address_and_may_skip_her_birthday(
    fake_api, driver
) -> None:
    await driver.start(
        "ik wil een wmo melding doen voor mijn moeder, ze kan het huishouden niet meer aan",
        regeling="wmo",
    )
    await driver.say("Asten")
    # for someone else (told), and what help (the message said it)
    assert driver.slots["aanvraag_hulp_voor"] == "ander"
    assert driver.asked == "aanvraag_hulpvraag"
    await driver.say("ze kan niet meer zelf douchen en het huishouden lukt niet")
    await driver.say("Anne Smit")
    assert driver.asked == "aanvraag_geboortedatum"
    assert "degene die hulp nodig heeft" in driver.last
    await driver.say("weet ik niet")
    assert driver.asked == "aanvraag_adres"
    assert "van degene die hulp nodig heeft" in driver.last
    await driver.say("5721 AB 1")
    await driver.say("ze woont alleen")
    await driver.say("bellen")
    await driver.say("na 15 uur")
    await driver.say("0612345678")
    await driver.say("ja")
    await driver.say("ja")
    sent = _sent(fake_api)
    assert sent["application"]["type"] == "wmo"
    assert sent["application"]["fields"]["geboortedatum"] is None
    assert sent["application"]["fields"]["hulp_voor"] == "ander"
    assert "douchen" in sent["application"]["fields"]["hulpvraag"]
    assert sent["destination"]["level"] == "local"


async def test_minimaregeling_for_sport_asks_which_and_the_activity(fake_api, driver) -> None:
    await driver.start(
        "ik wil iets aanvragen zodat mijn kinderen op voetbal kunnen, we wonen in heerhugowaard",
        regeling="minimaregeling",
        gemeente="Heerhugowaard",
    )
    # the scheme and the activity were in the message
    assert driver.slots["aanvraag_minimaregeling_soort"] == "meedoen"
    assert driver.slots["aanvraag_activiteit"] == "voetbal"
    assert driver.asked == "aanvraag_naam"
    for answer in ("Fatima", "2-2-1985", "1703 AB 4", "2 kinderen van 9 en 11", "bijstand"):
        await driver.say(answer)
    await driver.say("bellen")
    await driver.say("weet ik niet")
    await driver.say("0612345678")
    assert "Activiteit: voetbal" in driver.last and "Regeling: sport en cultuur" in driver.last
    await driver.say("ja")
    await driver.say("ja")
    sent = _sent(fake_api)["application"]
    assert sent["type"] == "minimaregeling"
    assert sent["fields"]["minimaregeling_soort"] == "meedoen"
    assert sent["fields"]["contactmoment"] is None


async def test_apply_without_saying_what_asks_which_regeling(fake_api, driver) -> None:
    await driver.start("ik wil iets aanvragen", intent="apply")
    assert driver.asked == "aanvraag_type"
    assert "hulp bij schulden" in driver.buttons[-1]
    await driver.say("schulden")
    assert driver.slots["aanvraag_type"] == "schuldhulp"
    assert driver.asked == "gemeente_code"


async def test_something_else_becomes_a_plain_handover(fake_api, driver) -> None:
    await driver.start("ik wil iets aanvragen", intent="apply")
    await driver.say("iets anders")
    assert driver.asked == "gemeente_code"
    await driver.say("Helmond")
    assert driver.asked == "consent_given"


# --- free answers, bad answers, corrections, side questions, stop ------------------------


async def _at_name(driver: FormDriver) -> FormDriver:
    await driver.start("ik wil bijstand aanvragen", regeling="bijstand")
    await driver.say("Helmond")
    assert driver.asked == "aanvraag_naam"
    return driver


async def test_an_answer_that_cannot_be_read_is_explained_and_asked_again(driver) -> None:
    await _at_name(driver)
    await driver.say("Jan")
    await driver.say("31-2-1990")
    assert driver.asked == "aanvraag_geboortedatum"
    assert "bestaat niet" in driver.said[-2] or "bestaat niet" in driver.last
    await driver.say("1-3-1990")
    await driver.say("5701")  # no house number
    assert driver.asked == "aanvraag_adres"
    assert "huisnummer" in " ".join(driver.said[-2:])


async def test_a_required_question_cannot_be_skipped_but_says_why(driver) -> None:
    await _at_name(driver)
    await driver.say("weet ik niet")
    assert driver.asked == "aanvraag_naam"
    assert "nodig" in driver.said[-2] and "stop" in driver.said[-2]


async def test_why_is_answered_and_the_question_comes_again(driver) -> None:
    await _at_name(driver)
    await driver.say("Jan")
    await driver.say("waarom moet u dat weten?", intent="ask_bijstand")
    assert "De leeftijd bepaalt welke regels en welke hulp passen." in driver.said[-2]
    assert driver.asked == "aanvraag_geboortedatum"


async def test_a_knowledge_question_in_the_middle_steps_aside(driver) -> None:
    await _at_name(driver)
    await driver.say("Jan")
    await driver.say("hoe lang duurt het voordat ik bijstand krijg?", intent="ask_bijstand")
    assert "8 weken" in driver.said[-2]  # answered, then the question comes again
    assert driver.asked == "aanvraag_geboortedatum"
    assert await driver.say("wat is bijzondere bijstand?", intent="ask_bijzondere_bijstand") is (
        False
    )  # not a question about the process: the rules answer it, then the form goes on


async def test_a_crisis_in_the_middle_steps_aside(driver) -> None:
    await _at_name(driver)
    assert await driver.say("ik wil niet meer leven", intent="crisis") is False
    assert driver.slots.get("aanvraag_naam") is None


async def test_a_correction_of_an_earlier_answer_asks_it_again(driver) -> None:
    await _at_name(driver)
    await driver.say("Jan")
    await driver.say("1-3-1990")
    await driver.say("5701 AB 12")
    assert driver.asked == "aanvraag_huishouden"
    await driver.say("mijn postcode klopt niet")
    assert driver.asked == "aanvraag_adres"
    await driver.say("5702 AB 3")
    assert driver.asked == "aanvraag_huishouden"
    assert driver.slots["aanvraag_adres"]["postcode"] == "5702 AB"


async def test_the_summary_can_be_corrected_in_one_go(driver) -> None:
    await _at_name(driver)
    for answer in ("Jan", "1-3-1990", "5701 AB 12", "alleen", "geen", "600", "bellen", "avond"):
        await driver.say(answer)
    await driver.say("0612345678")
    assert driver.asked == "aanvraag_bevestigd"
    await driver.say("nee de huur is 650")
    assert driver.slots["aanvraag_woonlasten"] == "650.00"
    assert driver.asked == "aanvraag_bevestigd"
    assert "Woonlasten per maand: € 650" in driver.last
    await driver.say("nee")
    assert "Wat klopt er niet?" in driver.said[-2]
    await driver.say("de naam")
    assert driver.asked == "aanvraag_naam"
    await driver.say("Jan Pietersen")
    assert driver.asked == "aanvraag_bevestigd"
    assert "Naam: Jan Pietersen" in driver.last


async def test_stop_ends_it_and_keeps_nothing(fake_api, driver) -> None:
    await _at_name(driver)
    await driver.say("Jan")
    await driver.say("stop")
    assert driver.asked is None
    assert "Er is niets doorgegeven" in " ".join(driver.said[-2:])
    assert driver.slots["aanvraag_naam"] is None and driver.slots["aanvraag_type"] is None
    assert fake_api.requests == []


async def test_consent_refused_sends_nothing(fake_api, driver) -> None:
    await _at_name(driver)
    for answer in ("Jan", "1-3-1990", "5701 AB 12", "alleen", "geen", "600", "bellen", "avond"):
        await driver.say(answer)
    await driver.say("0612345678")
    await driver.say("ja")
    await driver.say("nee", intent="deny")
    assert fake_api.requests == []
    assert driver.slots["aanvraag_naam"] is None


async def test_a_bsn_is_never_taken_as_an_answer(driver) -> None:
    await _at_name(driver)
    await driver.say("[BSN]")
    assert driver.asked == "aanvraag_naam" and driver.slots.get("aanvraag_naam") is None


def test_skipped_is_null_in_the_handover() -> None:
    from tests.actions.conftest import make_tracker

    tracker = make_tracker(
        slots={
            "aanvraag_type": "bijzondere_bijstand",
            "aanvraag_kosten_omschrijving": "bril",
            "aanvraag_kosten_bedrag": SKIPPED,
        }
    )
    fields, complete = application.application_fields(tracker)
    assert fields["kosten_omschrijving"] == "bril" and fields["kosten_bedrag"] is None
    assert complete is False


async def test_the_help_named_in_a_wmo_request_is_not_asked_again(fake_api) -> None:
    driver = FormDriver()
    text = "ik wil een traplift aanvragen"
    driver.slots["regeling"] = "wmo"
    tracker = driver._tracker(
        text, "apply", [{"entity": "regeling", "value": "wmo", "start": 7, "end": 19}]
    )
    dispatcher = CollectingDispatcher()
    driver._apply(start_handover(dispatcher, tracker))
    assert driver.slots["aanvraag_hulpvraag"] == "een traplift"
    assert "waarmee hulp" in dispatcher.messages[0]["text"]


async def test_a_regeling_chosen_later_still_takes_over_what_was_told(fake_api, driver) -> None:
    await driver.start("ik wil iets aanvragen, mijn kinderen willen op zwemles")
    assert driver.asked == "aanvraag_type"
    await driver.say("een minimaregeling")
    assert driver.slots["aanvraag_type"] == "minimaregeling"
    assert driver.slots["aanvraag_activiteit"] == "zwemles"
    assert "hoeft u niet opnieuw te zeggen" in " ".join(driver.said[-2:])


@pytest.mark.parametrize("text", ["laat maar, ik bel zelf wel", "ik stop ermee", "vergeet het"])
async def test_quitting_in_own_words_ends_it(fake_api, driver, text) -> None:
    await _at_name(driver)
    await driver.say("Jan")
    await driver.say(text)
    assert driver.asked is None and fake_api.requests == []
    assert "Er is niets doorgegeven" in " ".join(driver.said[-2:])


async def test_an_answer_is_data_not_a_story_for_routing(fake_api, driver) -> None:
    await _at_name(driver)
    for answer in ("Jan", "1-3-1990", "5701 AB 12", "alleen"):
        await driver.say(answer)
    assert driver.asked == "aanvraag_inkomen"
    # the detector reads 'ziektewet' as work/health; as an answer it is an income source
    await driver.say(
        "ziektewet", entities=[{"entity": "leefgebied", "value": "werk_opleiding", "start": 0}]
    )
    assert driver.slots["aanvraag_inkomen"] == ["uitkering_uwv"]
    assert not driver.slots.get("leefgebieden")
