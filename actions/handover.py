"""The warm handover: ask where the resident lives, ask consent with exactly what will be
shared with whom, take a phone number, then create the handover in the handover API.

Nothing leaves the conversation before the resident said yes to the versioned consent text.
If the API is down, the complete request is queued with its Idempotency-Key and the resident
still gets their reference: nothing is lost and nothing is duplicated.
"""

import hashlib
import logging
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import application
from actions.application_start import extract_regeling
from actions.channels import TEXT_ONLY, YES_NO, channel_of, choice_message
from actions.clients.handover_api import (
    HandoverApiClient,
    HandoverApiRejected,
    HandoverApiUnavailable,
)
from actions.config import get_settings
from actions.contact import display_phone, normalise_phone
from actions.follow_ups import answer_follow_up
from actions.handover_request import HandoverRequest
from actions.municipality import known_municipality, municipality_from_message, outside_place
from actions.outbox import Outbox, deliver_due, ensure_retry_loop
from actions.pending import clear
from actions.privacy_requests import bsn_notice
from actions.process_questions import answer_process_question
from actions.regions import load_regions
from actions.replies import (
    Kind,
    asks_erasure,
    asks_withdrawal,
    best_time_hint,
    forbids_calls,
    is_question,
    read_reply,
    safe_contact,
)
from actions.routing import (
    SERVICE_FOR_REGELING,
    SERVICE_LABELS,
    Route,
    is_multi_problem,
    route_for,
    who_receives,
)
from actions.session import conversation_ref
from actions.signals import accumulate_domains, latest_intent, latest_text, requested_service
from actions.transcript import build_summary, transcript_events, user_messages
from actions.way_forward import (
    expected_contact,
    outside_text,
    sooner,
    way_forward,
    what_to_have_at_hand,
)
from common.references import reference_from
from privacy.redaction import BSN

logger = logging.getLogger(__name__)

FORM = "handover_form"
# Messages with these intents are not answers to a form question: the form steps aside so the
# rules can answer them (and then the form asks its question again).
# Each has a rule in data/rules/ that brings the form back afterwards.
INTERRUPTIONS = {
    "stop_form",
    "request_human",
    "bot_challenge",
    "out_of_scope",
    "describe_situation",
    "crisis",
    "express_anger",
}


@lru_cache(maxsize=4)
def _consent_texts(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def current_consent(language: str | None = None, for_application: bool = False) -> tuple[str, str]:
    """(version, text template) of the consent text in force, in English for a resident who
    chose English, and the one that names the application's data when there is one (the
    version recorded says which text they agreed to)."""
    data = _consent_texts(get_settings().data_dir / "consent.yml")
    key = "current_application" if for_application else "current"
    if language == "en" and f"{key}_en" in data:
        key = f"{key}_en"
    version = data[key]
    return version, str(data["versions"][version]["text"])


def _is_interruption(tracker: Tracker) -> bool:
    intent = (tracker.latest_message.get("intent") or {}).get("name", "")
    return intent in INTERRUPTIONS or intent.startswith("ask_")


def end_of_handover(stopped: bool = False) -> list[EventType]:
    """Slot resets once a handover is sent, refused or stopped: consent is asked anew next time
    (it covers one handover), while what the resident told (municipality, phone) is kept.
    Conditions and safety information belong to that handover and are not carried over; the
    answers of an application the resident stopped are not kept either."""
    return [
        SlotSet("consent_given", None),
        SlotSet("consent_at", None),
        SlotSet("consent_version", None),
        SlotSet("requested_slot", None),
        SlotSet("handover_cancelled", None),
        SlotSet("safe_contact", None),
        SlotSet("safe_contact_retried", None),
        SlotSet("resident_notes", None),
        SlotSet("phone_offered", None),
        *application.end_of_application(stopped=stopped),
        *clear(),
    ]


# Violence at home: never call unless the resident said when and how it is safe — a question
# of its own. Other crises: the phone question asks for a good and safe moment as well.
CRISES_WITH_SAFETY_QUESTION = frozenset({"huiselijk_geweld"})
_PHONE_LIKE = re.compile(r"(?:\+|00)?\d[\d\s().-]{7,}\d")
SLOTS_BESIDE_THE_FORM = (
    "safe_contact",
    "handover_cancelled",
    "phone_offered",
    "resident_notes",
    "safe_contact_retried",
    "buiten_regio",  # lives outside the regions: "waar dan wel?" is answered with their place
    application.TYPE_SLOT,  # chosen at "Wat wilt u aanvragen?"
    application.WANTED_SLOT,  # "iets anders": a plain handover after all
    application.CONFIRM_SLOT,  # cleared when an answer is corrected
    "regeling",
)
CORRECTION_MARKERS = ("bedoel", "zei ik", "niet ", "moet zijn", "verkeerd", "sorry", "oeps")


def _unanswered_question(tracker: Tracker, requested: str) -> bool:
    """A question during the form that is no answer and no knowledge question ("moet ik mijn
    DigiD klaar houden?"): better a short honest answer than "Dat lijkt geen telefoonnummer"."""
    text = latest_text(tracker)
    intent = latest_intent(tracker)
    if not is_question(text) or intent.startswith("ask_") or intent in INTERRUPTIONS:
        return False
    if requested == "gemeente_code":
        return municipality_from_message(tracker, load_regions(), use_text=True) is None
    if requested == "contact_phone":
        return normalise_phone(text) is None
    return read_reply(text, intent).kind is Kind.UNCLEAR and requested == "consent_given"


def _ask_again(requested: str) -> list[EventType]:
    """The question was answered with a question: the form asks the same one again. Named
    explicitly: left to Rasa core, the next slot would come from the domain's list, which
    does not hold the application's questions."""
    return [SlotSet(requested, None), SlotSet("requested_slot", requested)]


def _form_ends(requested: str) -> list[EventType]:
    return [SlotSet(requested, None), SlotSet("requested_slot", None)]


def asks_safety(tracker: Tracker) -> bool:
    return tracker.get_slot("crisis_type") in CRISES_WITH_SAFETY_QUESTION


class ValidateHandoverForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handover_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """rasa-sdk keeps only the form's own slots from extraction; the slots that go with an
        answer (a condition, a number offered early, a stop) are added back here."""
        bsn_notice(dispatcher, tracker)
        requested = tracker.get_slot("requested_slot")
        # What the message says about the resident's life (e.g. "hulp bij mijn schulden" with
        # "medewerker") decides where the handover goes: remembered before routing. An answer
        # to an application question ("ziektewet" as income) is data, not a story: it does not
        # turn an application into a multi-problem case.
        answering = bool(requested) and application.answers_field(tracker, requested)
        domains, evidence = accumulate_domains(tracker)
        told: list[EventType] = []
        if not answering and domains != (tracker.get_slot("leefgebieden") or []):
            told = [SlotSet("leefgebieden", domains), SlotSet("leefgebied_bewijs", evidence)]
            tracker.slots.update({"leefgebieden": domains, "leefgebied_bewijs": evidence})
        text = latest_text(tracker)
        if requested and (asks_withdrawal(text) or asks_erasure(text)):
            # Before anything was shared: stopping is the withdrawal. Nothing is sent.
            return [*told, *_form_ends(requested), SlotSet("handover_cancelled", True)]
        if answering:
            # "ongeveer 3000 euro", "nee" at "Dreigt er iets?": an answer, whatever else the
            # words could also mean.
            return await self._run_form(dispatcher, tracker, domain, told)
        if requested and answer_process_question(dispatcher, tracker, self._route(tracker)):
            return [*told, *_ask_again(requested)]  # answered; the form asks it again
        followed = answer_follow_up(dispatcher, tracker) if requested else None
        if followed is not None:  # "moet ik daar voor betalen?" at the phone question
            kept = [e for e in followed if e.get("name") == "topic"]
            return [*told, *kept, *_ask_again(requested)]
        if requested and _unanswered_question(tracker, requested):
            dispatcher.utter_message(
                text="Goede vraag. Dat kan de medewerker u straks precies vertellen."
            )
            return [*told, *_ask_again(requested)]
        return await self._run_form(dispatcher, tracker, domain, told)

    async def _run_form(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        told: list[EventType],
    ) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        beside = [*SLOTS_BESIDE_THE_FORM, *application.catalogue().slots]
        before = {name: tracker.get_slot(name) for name in beside}
        events = await super().run(dispatcher, tracker, domain)
        for name in beside:
            if tracker.slots.get(name) != before[name] and not any(
                e.get("name") == name for e in events
            ):
                events.append(SlotSet(name, tracker.slots.get(name)))
        stopped = tracker.slots.get("handover_cancelled")
        if stopped and requested and not any(e.get("name") == requested for e in events):
            events.append(SlotSet(requested, None))  # an answer, not a rejection: the form ends
        # No answer at all (a crisis, a question): return nothing, so that the form steps aside
        # for the rules — any slot event, even the life domains, would count as an answer.
        return [*told, *events] if events else []

    @staticmethod
    def _route(tracker: Tracker) -> tuple[str, str, bool] | None:
        if not tracker.get_slot("gemeente_code"):
            return None
        chosen = route_for(tracker, load_regions())
        return chosen.organisation, chosen.team, chosen.priority == "urgent"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("handover_cancelled"):
            return []  # the resident stopped or lives elsewhere: the form ends, nothing is sent
        if tracker.get_slot("consent_given") is False:
            return ["gemeente_code", "consent_given"]  # no consent: ask nothing more
        # Violence at home: first when and how contact is safe, before anything else.
        first = ["safe_contact"] if asks_safety(tracker) else []
        if (
            application.is_application(tracker)
            and tracker.get_slot(application.WANTED_SLOT) is not False
        ):
            return [*first, *application.required_slots(tracker)]
        return [*first, "gemeente_code", "consent_given", "contact_phone"]

    async def _extract_slot(
        self,
        slot_name: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The application's questions share one reader (actions/application.py) instead of
        an `extract_<slot>` method per catalogue field; the form's own slots keep theirs."""
        if tracker.get_slot("requested_slot") != slot_name:
            if slot_name.startswith("aanvraag_"):
                return {}
            return await super()._extract_slot(slot_name, dispatcher, tracker, domain)
        if slot_name == application.TYPE_SLOT:
            return extract_regeling(dispatcher, tracker)
        if slot_name == application.CONFIRM_SLOT:
            return application.extract_confirmation(dispatcher, tracker)
        field = application.field_of_slot(tracker, slot_name)
        if field is not None:
            return application.extract_answer(
                dispatcher, tracker, field, stepping_aside=_is_interruption(tracker)
            )
        return await super()._extract_slot(slot_name, dispatcher, tracker, domain)

    def __getattr__(self, name: str) -> Any:
        """`validate_aanvraag_<field>`: the answers were validated while they were read (the
        parsers), so validation keeps them as they are."""
        if name.startswith("validate_aanvraag_"):

            async def keep(value: Any, *_: Any) -> dict[str, Any]:
                return {name.removeprefix("validate_"): value}

            return keep
        raise AttributeError(name)

    async def extract_gemeente_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        regions = load_regions()
        asked = tracker.get_slot("requested_slot") == "gemeente_code"
        text = latest_text(tracker).lower()
        correcting = any(marker in text for marker in CORRECTION_MARKERS)
        if tracker.get_slot("gemeente_code"):
            # "nee ik bedoel castricum" / "castricum zei ik toch": the last value is corrected.
            found = municipality_from_message(tracker, regions, use_text=correcting)
            if (
                found
                and found.code != tracker.get_slot("gemeente_code")
                and (correcting or tracker.get_slot("requested_slot") == "consent_given")
            ):
                dispatcher.utter_message(text=f"Dank u, ik pas het aan: gemeente {found.name}.")
                return {"gemeente_code": found.code}
            return {}
        found = municipality_from_message(tracker, regions, use_text=asked)
        if found is None and tracker.get_slot("gemeente"):
            found = regions.find_municipality(tracker.get_slot("gemeente"))
        if found:
            return {"gemeente_code": found.code}
        place = outside_place(tracker, regions) if not _is_interruption(tracker) else None
        if place and not asked:
            # "ik woon in Groningen, kan ik bijstand aanvragen?" starts the form: say so at once.
            dispatcher.utter_message(text=outside_text(place))
            return {"handover_cancelled": True, "buiten_regio": place}
        if asked and not _is_interruption(tracker):
            if place:
                dispatcher.utter_message(
                    text=f"{place} ligt niet in onze regio, dus ik kan uw vraag niet doorgeven. "
                    f"Neem contact op met de gemeente {place}: het nummer staat op hun website. "
                    "Ik heb niets gedeeld."
                )
                return {"gemeente_code": None, "handover_cancelled": True, "buiten_regio": place}
            if read_reply(latest_text(tracker), latest_intent(tracker)).kind in (
                Kind.NO,
                Kind.STOP,
            ):
                return {"handover_cancelled": True}
            dispatcher.utter_message(response="utter_gemeente_unknown")
            return {"gemeente_code": None}
        return {}

    async def extract_consent_given(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "consent_given":
            return {}
        text = latest_text(tracker)
        reply = read_reply(text, latest_intent(tracker))
        if reply.kind is Kind.YES:
            found: dict[str, Any] = {"consent_given": True}
            if reply.condition:
                notes = [*(tracker.get_slot("resident_notes") or []), reply.condition]
                found["resident_notes"] = notes
                dispatcher.utter_message(text=f'Goed. Dit geef ik door: "{reply.condition}".')
            return found
        if reply.kind in (Kind.NO, Kind.STOP):
            return {"consent_given": False}
        phone = normalise_phone(text)
        if phone:
            # A number is not a yes: ask consent first, and offer this number afterwards.
            dispatcher.utter_message(
                text="Dank u voor uw nummer. Ik heb eerst uw toestemming nodig voordat ik iets "
                "deel."
            )
            return {"phone_offered": phone}
        if reply.correction or _is_interruption(tracker) or BSN in text:
            return {}  # a BSN was warned about (bsn_notice); the question comes again
        if channel_of(tracker) in TEXT_ONLY:
            dispatcher.utter_message(response="utter_choose_yes_no")
        else:
            dispatcher.utter_message(text="Kies alstublieft Ja of Nee.")
        return {"consent_given": None}

    async def extract_safe_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "safe_contact" or _is_interruption(tracker):
            return {}
        text = latest_text(tracker)
        if read_reply(text, latest_intent(tracker)).kind is Kind.STOP:
            return {"handover_cancelled": True}
        said = safe_contact(text)
        if said is None and not tracker.get_slot("safe_contact_retried"):
            dispatcher.utter_message(
                text="Ik wil zeker weten dat contact veilig is. Noem een tijd of een manier, "
                "bijvoorbeeld 'na 15 uur', 'alleen sms' of 'bel niet'."
            )
            return {"safe_contact": None, "safe_contact_retried": True}
        return {"safe_contact": said or text.strip()[:300]}

    # Only the form's own slots survive extraction; slots that belong with them are set here,
    # in validation, where rasa-sdk keeps every returned slot.
    async def validate_gemeente_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"gemeente_code": None}
        try:
            municipality = load_regions().municipality(str(value))
        except KeyError:
            return {"gemeente_code": None}
        return {"gemeente_code": municipality.code, "gemeente": municipality.name}

    async def validate_consent_given(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Records when, and to which text version, the resident said yes."""
        if value is not True:
            return {"consent_given": value, "consent_at": None, "consent_version": None}
        version, _ = current_consent(
            tracker.get_slot("language"), application.regeling_of(tracker) is not None
        )
        return {
            "consent_given": True,
            "consent_at": datetime.now(UTC).isoformat(),
            "consent_version": version,
        }

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"contact_phone": normalise_phone(str(value)) if value else None}

    async def extract_contact_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Only an answer to the phone question counts: a number typed earlier is offered back
        for confirmation, never used unasked."""
        if tracker.get_slot("contact_phone") or tracker.get_slot("requested_slot") != (
            "contact_phone"
        ):
            return {}
        text = latest_text(tracker)
        for entity in tracker.latest_message.get("entities", []):
            if entity.get("entity") == "telefoonnummer":
                phone = normalise_phone(str(entity.get("value")))
                if phone:
                    return {"contact_phone": phone}
        phone = normalise_phone(text)
        if phone:
            found: dict[str, Any] = {"contact_phone": phone}
            # "06 12345678, na 15 uur": the moment goes to the professional too.
            rest = _PHONE_LIKE.sub("", text).strip(" ,.;-")
            moment = safe_contact(rest) if rest and not tracker.get_slot("safe_contact") else None
            if moment:
                found["safe_contact"] = moment
            return found
        reply = read_reply(text, latest_intent(tracker))
        offered = tracker.get_slot("phone_offered")
        if offered and reply.kind is Kind.YES:
            return {"contact_phone": offered}
        if reply.kind in (Kind.NO, Kind.STOP) and not offered:
            return {"handover_cancelled": True}  # "nee toch niet": stop, never a phone number
        if reply.kind is Kind.STOP:
            return {"handover_cancelled": True}
        if _is_interruption(tracker):
            return {}
        if offered and reply.kind is Kind.NO:
            return {"phone_offered": None, "contact_phone": None}
        dispatcher.utter_message(response="utter_phone_invalid")
        return {"contact_phone": None}


class ActionAskContactPhone(Action):
    """The phone question; a number the resident typed before is offered back to confirm."""

    def name(self) -> str:
        return "action_ask_contact_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        offered = tracker.get_slot("phone_offered")
        if tracker.get_slot("language") == "en" and not offered:
            dispatcher.utter_message(
                text="On which phone number can the worker reach you? You may add when it is "
                "a good and safe time, for example: 06 12345678, after 3 pm."
            )
            return []
        if offered:
            dispatcher.utter_message(
                **choice_message(
                    f"Mag de medewerker u bereiken op {display_phone(offered)}? Typ anders een "
                    "ander nummer.",
                    YES_NO,
                    channel_of(tracker),
                )
            )
        elif tracker.get_slot("crisis_type") == "huiselijk_geweld":
            dispatcher.utter_message(
                text="Op welk telefoonnummer kan de medewerker u veilig bereiken?"
            )
        elif tracker.get_slot("crisis_type") and not tracker.get_slot("safe_contact"):
            dispatcher.utter_message(
                text="Op welk telefoonnummer kan de medewerker u bellen? Zeg er ook bij wanneer "
                "bellen goed en veilig is, bijvoorbeeld: 06 12345678, na 15 uur."
            )
        else:
            dispatcher.utter_message(response="utter_ask_contact_phone")
        return []


class ActionAskSafeContact(Action):
    """When and how contact is safe: asked first when there is violence at home."""

    def name(self) -> str:
        return "action_ask_safe_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("language") == "en":
            text = (
                "When and how is contact safe for you? For example: 'after 3 pm', 'text only' "
                "or 'do not call, I will call'. The worker will only call at that time."
            )
        elif tracker.get_slot("crisis_type") == "huiselijk_geweld":
            text = (
                "Wanneer en hoe is contact veilig voor u? Bijvoorbeeld: 'na 15 uur', 'alleen "
                "sms' of 'bel niet, ik bel zelf'. De medewerker belt alleen op dat moment."
            )
        else:
            text = (
                "Wanneer kan de medewerker u het beste bereiken, en is bellen veilig? "
                "Bijvoorbeeld: 'nu meteen', 'na 15 uur' of 'alleen sms'."
            )
        dispatcher.utter_message(text=text)
        return []


class ActionAskConsentGiven(Action):
    """Asks consent naming the actual receiving team, so the resident knows who gets what."""

    def name(self) -> str:
        return "action_ask_consent_given"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        chosen = route_for(tracker, load_regions())
        _, template = current_consent(
            tracker.get_slot("language"), application.regeling_of(tracker) is not None
        )
        text = template.format(
            ontvanger=who_receives(chosen),
            team=chosen.team_name,
            organisatie=chosen.organisation_name,
        )
        dispatcher.utter_message(**choice_message(text, YES_NO, channel_of(tracker)))
        return []


class ActionSubmitHandover(Action):
    def name(self) -> str:
        return "action_submit_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        regions = load_regions()
        reset = end_of_handover(stopped=tracker.get_slot("consent_given") is not True)
        municipality = known_municipality(tracker, regions)
        if (
            tracker.get_slot("handover_cancelled")
            and tracker.get_slot("buiten_regio")
            and (municipality is None)
        ):
            return reset  # where to go instead was just said (outside_text)
        if tracker.get_slot("handover_cancelled"):
            dispatcher.utter_message(
                text="Goed, ik stop hiermee. Er is niets doorgegeven. "
                + way_forward(regions, municipality, requested_service(tracker))
            )
            return reset
        if tracker.get_slot("consent_given") is not True or municipality is None:
            dispatcher.utter_message(
                text="Dat is goed. Ik deel niets. "
                + way_forward(regions, municipality, requested_service(tracker))
            )
            return reset
        chosen = route_for(tracker, regions)
        conversation_id, ref_events = conversation_ref(tracker)
        payload = self.build_payload(
            tracker, chosen, municipality.code, municipality.name, conversation_id
        )
        key = hashlib.sha256(
            f"{tracker.sender_id}|{tracker.get_slot('consent_at')}".encode()
        ).hexdigest()
        try:
            reference, queued, handover_id = await self.deliver(payload, key)
        except HandoverApiRejected as exc:
            # Our request was wrong (a bug, not the resident's fault): say so and give a way on.
            logger.error("handover rejected (status %s): %s", exc.status, exc.detail)
            dispatcher.utter_message(response="utter_handover_failed")
            return reset
        phone = payload["contact"]["phone"]
        dispatcher.utter_message(
            response="utter_handover_queued" if queued else "utter_handover_done",
            reference=reference,
            ontvanger=who_receives(chosen),
            telefoon=display_phone(phone) if phone else "het nummer dat u gaf",
        )
        urgent = chosen.priority == "urgent"
        service = requested_service(tracker)
        crisis = bool(tracker.get_slot("crisis_type"))
        dispatcher.utter_message(
            text=" ".join(
                [
                    expected_contact(regions, chosen.organisation, chosen.team, urgent),
                    what_to_have_at_hand(service, crisis),
                    sooner(regions, chosen.organisation, chosen.team),
                ]
            )
        )
        made = [
            *(tracker.get_slot("handovers_made") or []),
            {
                "id": handover_id,
                "key": key,
                "reference": reference,
                "service": service,
                "crisis": tracker.get_slot("crisis_type"),
                "organisation_name": chosen.organisation_name,
            },
        ]
        return [
            *reset,
            *ref_events,
            SlotSet("handover_reference", reference),
            SlotSet("handover_destination", chosen.destination()),
            SlotSet("handovers_made", made),
        ]

    @staticmethod
    def build_payload(
        tracker: Tracker,
        chosen: Route,
        municipality_code: str,
        municipality_name: str,
        conversation_id: str,
    ) -> HandoverRequest:
        channel = channel_of(tracker)
        domains: list[str] = tracker.get_slot("leefgebieden") or []
        evidence: dict[str, list[str]] = tracker.get_slot("leefgebied_bewijs") or {}
        service = requested_service(tracker)
        regeling = tracker.get_slot("regeling")
        phone = tracker.get_slot("contact_phone")
        crisis = tracker.get_slot("crisis_type")
        safety = tracker.get_slot("safe_contact")
        preferred = channel if channel in ("sms", "whatsapp") else "phone"
        if safety and forbids_calls(safety):
            preferred = "whatsapp" if channel == "whatsapp" else "sms"
        fields, complete = application.application_fields(tracker)
        if fields.get("contactvoorkeur") and not (safety and forbids_calls(safety)):
            preferred = str(fields["contactvoorkeur"])  # the resident chose it in the form
        question = SERVICE_LABELS.get(service, service) if service else None
        return {
            "reference": reference_from(f"{tracker.sender_id}|{tracker.get_slot('consent_at')}"),
            "conversation_id": conversation_id,
            "channel": channel,
            "priority": chosen.priority,
            "municipality": {"code": municipality_code, "name": municipality_name},
            "destination": chosen.destination(),
            "life_domains": [{"code": d, "evidence": evidence.get(d, [])} for d in domains],
            "multi_problem": is_multi_problem(domains),
            "crisis": {"type": crisis} if crisis else None,
            "summary": build_summary(
                question=question,
                municipality=municipality_name,
                user_texts=user_messages(tracker),
                domains=domains,
                phone_given=bool(phone),
                channel=channel,
                notes=list(tracker.get_slot("resident_notes") or []),
                safety=safety,
            ),
            "application": (
                {
                    "type": application.regeling_of(tracker) or regeling,
                    "complete": complete and bool(fields),
                    "fields": {
                        **fields,
                        "gemeente": municipality_name,
                        "gemeentecode": municipality_code,
                        "telefoonnummer": phone,
                    },
                }
                if (application.regeling_of(tracker) or regeling) in SERVICE_FOR_REGELING
                else None
            ),
            "contact": {
                "name": fields.get("naam") or tracker.get_slot("contact_name"),
                "phone": phone,
                "email": None,
                "preferred": preferred,
                "best_time": safety
                or fields.get("contactmoment")
                or best_time_hint(user_messages(tracker)),
            },
            "consent": {
                "given": True,
                "at": tracker.get_slot("consent_at"),
                "text_version": tracker.get_slot("consent_version"),
            },
            "transcript": transcript_events(tracker),
        }

    @staticmethod
    async def deliver(payload: HandoverRequest, key: str) -> tuple[str, bool, str | None]:
        """Creates the handover; returns (reference, queued?, the API's id when delivered)."""
        settings = get_settings()
        client = HandoverApiClient(settings)
        outbox = Outbox(settings.outbox_path)
        try:
            await deliver_due(outbox, client)  # older queued handovers first
            for attempt in range(3):
                try:
                    created = await client.create_handover(payload, key)
                    return str(created["reference"]), False, str(created.get("id") or "") or None
                except HandoverApiRejected as exc:
                    if exc.status != 409 or attempt == 2:
                        raise
                    # the short reference collided with another handover: pick the next one
                    payload["reference"] = reference_from(key, attempt + 1)
        except HandoverApiUnavailable as exc:
            logger.warning("handover API unavailable, queued %s: %s", key[:12], exc)
            outbox.enqueue(key, payload, str(exc))
            ensure_retry_loop(outbox, client, settings.retry_seconds)
            return str(payload["reference"]), True, None
        raise AssertionError("unreachable")


class ActionStopHandover(Action):
    """The resident stops the form: nothing is shared and nothing half-asked is kept, and they
    leave with somewhere to go."""

    def name(self) -> str:
        return "action_stop_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        regions = load_regions()
        dispatcher.utter_message(
            text="Goed, ik stop hiermee. Er is niets doorgegeven. "
            + way_forward(regions, known_municipality(tracker, regions), requested_service(tracker))
        )
        return end_of_handover(stopped=True)
