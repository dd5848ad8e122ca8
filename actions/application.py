"""Pre-filled applications inside the handover form: ask once, validate, hand over complete.

An application is the handover form with more questions. The questions come from the field
catalogue (data/applications.yml): only those of the chosen regeling, only those not already
known from the conversation (actions/application_prefill.py), one at a time with a short reason.
Answers are read by the Dutch parsers in applications/parsers.py; an answer that cannot be
read gets a specific explanation and the same question again, never a dead end. Before consent
the resident sees everything collected and can correct any part ("mijn postcode klopt niet").

Because it runs inside the handover form, everything the form already does in a conversation
holds here too: a crisis, a side question, anger, "stop" and a withdrawal step in between
(actions/handover.py), and the form asks its question again afterwards.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import YES_NO, channel_of, choice_message
from actions.config import get_settings
from actions.contact import display_phone
from actions.replies import Kind, is_question, read_reply
from actions.signals import latest_intent, latest_text
from applications import parsers
from applications.catalogue import Catalogue, Field, load_catalogue
from privacy.redaction import BSN

TYPE_SLOT = "aanvraag_type"  # the regeling being applied for
WANTED_SLOT = "aanvraag_gewenst"  # the resident asked to apply, the regeling still to choose
CONFIRM_SLOT = "aanvraag_bevestigd"  # the summary was confirmed
TOLD_SLOT = "aanvraag_uit_gesprek"  # fields taken from what the resident told before
# A skipped question ("weet ik niet"): a value, so the form does not ask it again; handed over
# as null, with complete = false.
SKIPPED = "weet_ik_niet"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# "klopt niet", "is fout", "wil ik aanpassen": the resident corrects an earlier answer.
_WRONG = re.compile(
    r"\b(?:klopt (?:niet|nie)|kloppen niet|(?:is |was )?(?:fout|verkeerd)|"
    r"aanpassen|wijzigen|veranderen|verbeteren|anders zijn|moet (?:anders|zijn))\b"
)
# "laat maar, ik bel zelf wel": the resident quits the application ("nee" alone is not
# quitting: it may answer "Dreigt er iets?").
_QUIT = re.compile(
    r"^\s*(?:laat (?:ook |het )?maar|ik (?:wil )?stop|ik hoef (?:het )?niet meer|"
    r"nee,? toch niet|vergeet het|ik wil niet meer verder)\b"
)
_WHY = re.compile(r"\b(?:waarom|waar(?:voor| voor) (?:is|heeft|heb|hebben)|wat moet u)\b")
# Only these are not the same as the ones the form itself already asks (gemeente, telefoon).
PSEUDO_FIELDS = {
    "gemeente_code": ("gemeente", "woonplaats"),
    "contact_phone": ("telefoonnummer", "nummer", "telefoon", "06"),
}


def catalogue() -> Catalogue:
    return load_catalogue(get_settings().data_dir / "applications.yml")


def regeling_of(tracker: Tracker) -> str | None:
    return tracker.get_slot(TYPE_SLOT)


def for_someone_else(tracker: Tracker) -> bool:
    return tracker.get_slot("aanvraag_hulp_voor") == "ander"


def fields_of(tracker: Tracker) -> list[Field]:
    regeling = regeling_of(tracker)
    if not regeling:
        return []
    return catalogue().fields_of(regeling, tracker.get_slot("aanvraag_minimaregeling_soort"))


def required_slots(tracker: Tracker) -> list[str]:
    """The form's questions for an application: the regeling when still to choose, the
    municipality, the regeling's fields, the phone number, the summary, then consent."""
    if not regeling_of(tracker):
        return [TYPE_SLOT, "gemeente_code"]
    return [
        "gemeente_code",
        *(f.slot for f in fields_of(tracker)),
        "contact_phone",
        CONFIRM_SLOT,
        "consent_given",
    ]


def field_of_slot(tracker: Tracker, slot: str) -> Field | None:
    return next((f for f in fields_of(tracker) if f.slot == slot), None)


def is_application(tracker: Tracker) -> bool:
    return bool(regeling_of(tracker) or tracker.get_slot(WANTED_SLOT))


# --- asking --------------------------------------------------------------------------------


def _choices(field: Field) -> list[tuple[str, str]]:
    """Options as (title, payload): a button sends its title, read like a typed answer."""
    return [(words[0], words[0]) for words in field.options.values()]


def question_text(tracker: Tracker, field: Field) -> str:
    """Why first, then the question; the skip hint where skipping is allowed."""
    other = for_someone_else(tracker) and field.question_for_other
    question = field.question_for_other if other else field.question
    text = f"{field.why} {question}"
    if may_skip(tracker, field) and "weet ik niet" not in (question or ""):
        text += " Weet u het niet? Typ dan 'weet ik niet'."
    return text


def may_skip(tracker: Tracker, field: Field) -> bool:
    """Optional fields; and what a relative may not know about the person they ask for."""
    return field.optional or bool(for_someone_else(tracker) and field.question_for_other)


def ask_field(dispatcher: CollectingDispatcher, tracker: Tracker, field: Field) -> None:
    text = question_text(tracker, field)
    if field.kind in ("choice", "choices"):
        dispatcher.utter_message(**choice_message(text, _choices(field), channel_of(tracker)))
    else:
        dispatcher.utter_message(text=text)


class AskApplicationField(Action):
    """Asks one catalogue field; one subclass per field (Rasa asks `action_ask_<slot>`)."""

    field_name = ""

    def name(self) -> str:
        return f"action_ask_aanvraag_{self.field_name}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ask_field(dispatcher, tracker, catalogue().fields[self.field_name])
        return []


def _ask_action(field_name: str) -> type[AskApplicationField]:
    return type(f"AskAanvraag_{field_name}", (AskApplicationField,), {"field_name": field_name})


# One registered action per catalogue field (the action server registers every subclass).
ASK_ACTIONS = [_ask_action(name) for name in load_catalogue().fields]


def regeling_choices() -> list[tuple[str, str]]:
    return [(r.label, r.label) for r in catalogue().regelingen.values()]


class ActionAskAanvraagType(Action):
    """ "Wat wilt u aanvragen?" when the resident wants to apply but did not say for what."""

    def name(self) -> str:
        return "action_ask_aanvraag_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(
            **choice_message(
                "Wat wilt u aanvragen? Dan stel ik alleen de vragen die daarvoor nodig zijn.",
                regeling_choices(),
                channel_of(tracker),
            )
        )
        return []


# --- the summary ---------------------------------------------------------------------------


def collected_rows(tracker: Tracker) -> list[tuple[str, str]]:
    """(label, value) of everything that will be handed over, as the resident reads it."""
    rows: list[tuple[str, str]] = []
    for field in fields_of(tracker):
        value = tracker.get_slot(field.slot)
        if value is None:
            continue
        rows.append((field.label, "weet ik niet" if value == SKIPPED else field.render(value)))
    municipality = tracker.get_slot("gemeente")
    if municipality:
        rows.append(("Gemeente", str(municipality)))
    phone = tracker.get_slot("contact_phone")
    if phone:
        rows.append(("Telefoon", display_phone(str(phone))))
    return rows


def summary_text(tracker: Tracker) -> str:
    regeling = catalogue().regeling(str(regeling_of(tracker)))
    lines = "\n".join(f"- {label}: {value}" for label, value in collected_rows(tracker))
    return (
        f"Dit heb ik genoteerd voor uw {regeling.title.lower()}:\n{lines}\n"
        "Klopt dit? Is iets niet goed? Typ dan wat, bijvoorbeeld 'postcode klopt niet'."
    )


class ActionAskAanvraagBevestigd(Action):
    def name(self) -> str:
        return "action_ask_aanvraag_bevestigd"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(
            **choice_message(summary_text(tracker), YES_NO, channel_of(tracker))
        )
        return []


# --- reading answers ---------------------------------------------------------------------


def parse(field: Field, text: str) -> parsers.Parsed[Any]:
    """The stored (JSON) value of an answer, or the parser's explanation."""
    now = datetime.now(AMSTERDAM)
    kind = field.kind
    result: parsers.Parsed[Any]
    if kind == "name":
        result = parsers.parse_name(text)
    elif kind == "date_of_birth":
        result = parsers.parse_date_of_birth(text, now.date())
    elif kind == "address":
        result = parsers.parse_address(text)
    elif kind == "household":
        result = parsers.parse_household(text)
    elif kind == "amount":
        result = parsers.parse_amount(text)
    elif kind == "choice":
        result = parsers.parse_choice(text, field.options)
    elif kind == "choices":
        result = parsers.parse_choices(text, field.options)
    elif kind == "moment":
        result = parsers.parse_moment(text, now.replace(tzinfo=None))
    else:
        result = parse_text(text)
    if not result.ok:
        return result
    return parsers.Parsed(value=stored(result.value))


def parse_text(text: str) -> parsers.Parsed[str]:
    clean = " ".join(text.split())
    if len(clean) < 2:
        return parsers.Parsed(problem="Vertel het in een paar woorden, alstublieft.")
    if len(clean) > 500:
        return parsers.Parsed(problem="Dat is wat lang. Vertel het in één of twee zinnen.")
    return parsers.Parsed(value=clean)


def stored(value: Any) -> Any:
    """A parser's value as plain JSON (the shapes are in applications/catalogue.py)."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, parsers.Household):
        return {
            "partner": value.partner,
            "kinderen": value.children,
            "leeftijden_kinderen": list(value.children_ages),
            "andere_volwassenen": value.other_adults,
        }
    if isinstance(value, parsers.Address):
        return {
            "postcode": value.postcode,
            "huisnummer": value.huisnummer,
            "toevoeging": value.toevoeging,
        }
    if isinstance(value, parsers.Moment):
        return value.text
    return value


def named_field(tracker: Tracker, text: str) -> str | None:
    """The slot of the field a resident names ("de postcode", "mijn naam"), if one."""
    clean = text.lower()
    for field in fields_of(tracker):
        if any(re.search(rf"\b{re.escape(w.lower())}\b", clean) for w in field.words):
            return field.slot
    for slot, words in PSEUDO_FIELDS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", clean) for w in words):
            return slot
    return None


def correction_of(tracker: Tracker, text: str) -> str | None:
    """ "mijn postcode klopt niet": the slot to ask again, when an earlier answer is named as
    wrong (the question being asked now is not a correction of itself)."""
    if not _WRONG.search(text.lower()):
        return None
    slot = named_field(tracker, text)
    if slot is None or tracker.get_slot(slot) is None:
        return None
    return slot


def clear_for_correction(slot: str) -> dict[str, Any]:
    cleared: dict[str, Any] = {slot: None, CONFIRM_SLOT: None}
    if slot == "contact_phone":
        cleared["phone_offered"] = None
    return cleared


def answers_field(tracker: Tracker, slot: str) -> bool:
    """The message reads as an answer to the application question being asked (not a
    question back, not a crisis)."""
    field = field_of_slot(tracker, slot)
    text = latest_text(tracker)
    if field is None or latest_intent(tracker) == "crisis" or is_question(text) or BSN in text:
        return False
    return parsers.is_skip(text) or parse(field, text).ok


def extract_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, field: Field, stepping_aside: bool
) -> dict[str, Any]:
    """The answer to the field being asked. Returns the slots to set: the value; None for the
    field to ask it again (after an explanation); {} when the message is not an answer and the
    form steps aside for the rules (a crisis, a knowledge question)."""
    text = latest_text(tracker)
    if latest_intent(tracker) == "crisis":
        return {}
    if BSN in text:
        return {field.slot: None}  # warned by bsn_notice; the question comes again
    corrected = correction_of(tracker, text)
    if corrected and corrected != field.slot:
        dispatcher.utter_message(text="Goed, dan vraag ik dat opnieuw.")
        return clear_for_correction(corrected)
    if parsers.is_skip(text):
        if may_skip(tracker, field):
            return {field.slot: SKIPPED}
        dispatcher.utter_message(
            text=f"Dit heb ik wel nodig voor de aanvraag. {field.why} Wilt u liever stoppen? "
            "Typ dan 'stop'."
        )
        return {field.slot: None}
    if read_reply(text, latest_intent(tracker)).kind is Kind.STOP or _QUIT.search(text.lower()):
        return {"handover_cancelled": True}
    if _WHY.search(text.lower()) and is_question(text):
        dispatcher.utter_message(text=f"{field.why} Uw gegevens gaan alleen naar uw gemeente.")
        return {field.slot: None}
    result = parse(field, text)
    if result.ok and not (field.kind == "text" and stepping_aside and is_question(text)):
        return {field.slot: result.value}
    if stepping_aside:
        return {}
    dispatcher.utter_message(text=result.problem or "Dat kon ik niet lezen.")
    return {field.slot: None}


def extract_confirmation(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """The answer to the summary: yes; or what is wrong (asked again); or the new value."""
    text = latest_text(tracker)
    if latest_intent(tracker) == "crisis":
        return {}
    slot = named_field(tracker, text)
    reply = read_reply(text, latest_intent(tracker))
    if slot and (_WRONG.search(text.lower()) or reply.kind in (Kind.NO, Kind.UNCLEAR)):
        field = next((f for f in fields_of(tracker) if f.slot == slot), None)
        if field is not None and not _WRONG.search(text.lower()):
            # "mijn postcode is 5702 AB 3": the new value in one go
            result = parse(field, text)
            if result.ok:
                dispatcher.utter_message(text=f"Aangepast: {field.label.lower()}.")
                return {slot: result.value, CONFIRM_SLOT: None}
        dispatcher.utter_message(text="Goed, dan vraag ik dat opnieuw.")
        return clear_for_correction(slot)
    if reply.kind is Kind.YES:
        return {CONFIRM_SLOT: True}
    if reply.kind is Kind.STOP:
        return {"handover_cancelled": True}
    if reply.kind is Kind.NO:
        dispatcher.utter_message(
            text="Wat klopt er niet? Typ bijvoorbeeld 'naam', 'postcode' of 'huishouden'."
        )
        return {CONFIRM_SLOT: None}
    if latest_intent(tracker).startswith("ask_") and is_question(text):
        return {}
    dispatcher.utter_message(
        text="Klopt alles? Typ dan 'ja'. Anders typt u wat niet klopt, bijvoorbeeld "
        "'postcode klopt niet'."
    )
    return {CONFIRM_SLOT: None}


# --- handing over ------------------------------------------------------------------------


def application_fields(tracker: Tracker) -> tuple[dict[str, Any], bool]:
    """(fields, complete) for the handover: skipped answers are null; complete when every
    question of the regeling has an answer."""
    values: dict[str, Any] = {}
    complete = True
    for field in fields_of(tracker):
        value = tracker.get_slot(field.slot)
        if value is None or value == SKIPPED:
            complete = False
            values[field.name] = None
        else:
            values[field.name] = value
    return values, complete


def end_of_application(stopped: bool) -> list[EventType]:
    """After a handover the application itself is done; what the resident told about
    themself (name, address, household) stays for a next question in this conversation,
    unless they stopped: then nothing half-asked is kept."""
    events: list[EventType] = [
        SlotSet(TYPE_SLOT, None),
        SlotSet(WANTED_SLOT, None),
        SlotSet(CONFIRM_SLOT, None),
        SlotSet(TOLD_SLOT, None),
    ]
    if stopped:
        events += [SlotSet(slot, None) for slot in load_catalogue().slots]
    return events
