"""The warm handover: ask where the resident lives, ask consent with exactly what will be
shared with whom, take a phone number, then create the handover in the handover API.

Nothing leaves the conversation before the resident said yes to the versioned consent text.
If the API is down, the complete request is queued with its Idempotency-Key and the resident
still gets their reference: nothing is lost and nothing is duplicated.
"""

import hashlib
import logging
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.channels import YES_NO, channel_of, choice_message
from actions.clients.handover_api import (
    HandoverApiClient,
    HandoverApiRejected,
    HandoverApiUnavailable,
)
from actions.config import get_settings
from actions.contact import display_phone, normalise_phone
from actions.municipality import known_municipality, municipality_from_message
from actions.outbox import Outbox, deliver_due, ensure_retry_loop
from actions.regions import RegionConfig, load_regions
from actions.routing import SERVICE_FOR_REGELING, SERVICE_LABELS, Route, is_multi_problem, route
from actions.session import conversation_ref
from actions.transcript import build_summary, transcript_events, user_messages

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
}
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely


@lru_cache(maxsize=4)
def _consent_texts(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def current_consent() -> tuple[str, str]:
    """(version, text template) of the consent text in force."""
    data = _consent_texts(get_settings().data_dir / "consent.yml")
    version = data["current"]
    return version, str(data["versions"][version]["text"])


def _is_interruption(tracker: Tracker) -> bool:
    intent = (tracker.latest_message.get("intent") or {}).get("name", "")
    return intent in INTERRUPTIONS or intent.startswith("ask_")


def requested_service(tracker: Tracker) -> str | None:
    """What the resident wants help with: an application named, else the last topic asked."""
    regeling = tracker.get_slot("regeling")
    if regeling in SERVICE_FOR_REGELING:
        return SERVICE_FOR_REGELING[regeling]
    return tracker.get_slot("service")


def route_for(tracker: Tracker, regions: RegionConfig) -> Route:
    return route(
        regions=regions,
        municipality_code=tracker.get_slot("gemeente_code"),
        service=requested_service(tracker),
        domains=tracker.get_slot("leefgebieden") or [],
        crisis_type=tracker.get_slot("crisis_type"),
        urgent_signal=bool(tracker.get_slot("urgent_signal")),
    )


def end_of_handover() -> list[EventType]:
    """Slot resets once a handover is sent, refused or stopped: consent is asked anew next time
    (it covers one handover), while what the resident told (municipality, phone) is kept."""
    return [
        SlotSet("consent_given", None),
        SlotSet("consent_at", None),
        SlotSet("consent_version", None),
        SlotSet("handover_offered", False),
        SlotSet("requested_slot", None),
    ]


def make_reference(seed: str, attempt: int = 0) -> str:
    """A short reference the resident can read aloud, e.g. VD-7K3P-92; stable per seed."""
    digest = hashlib.sha256(f"{seed}|{attempt}".encode()).digest()
    letters = "".join(REFERENCE_ALPHABET[b % len(REFERENCE_ALPHABET)] for b in digest[:4])
    return f"VD-{letters}-{digest[4] % 100:02d}"


class ValidateHandoverForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handover_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("consent_given") is False:
            return ["gemeente_code", "consent_given"]  # no consent: ask nothing more
        return domain_slots

    async def extract_gemeente_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("gemeente_code"):
            return {}
        regions = load_regions()
        asked = tracker.get_slot("requested_slot") == "gemeente_code"
        found = municipality_from_message(tracker, regions, use_text=asked)
        if found is None and tracker.get_slot("gemeente"):
            found = regions.find_municipality(tracker.get_slot("gemeente"))
        if found:
            return {"gemeente_code": found.code}
        if asked and not _is_interruption(tracker):
            dispatcher.utter_message(response="utter_gemeente_unknown")
            return {"gemeente_code": None}
        return {}

    async def extract_consent_given(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "consent_given":
            return {}
        text = (tracker.latest_message.get("text") or "").strip().rstrip(".").lower()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if text in ("1", "/affirm") or (intent == "affirm" and text != "2"):
            return {"consent_given": True}
        if text in ("2", "/deny") or intent == "deny":
            return {"consent_given": False}
        if _is_interruption(tracker):
            return {}
        dispatcher.utter_message(response="utter_choose_yes_no")
        return {"consent_given": None}

    # Only the form's own slots survive extraction; slots that belong with them are set here,
    # in validation, where rasa-sdk keeps every returned slot.
    async def validate_gemeente_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
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
        version, _ = current_consent()
        return {
            "consent_given": True,
            "consent_at": datetime.now(UTC).isoformat(),
            "consent_version": version,
        }

    async def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"contact_phone": normalise_phone(str(value))}

    async def extract_contact_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("contact_phone"):
            return {}
        asked = tracker.get_slot("requested_slot") == "contact_phone"
        for entity in tracker.latest_message.get("entities", []):
            if entity.get("entity") == "telefoonnummer":
                phone = normalise_phone(str(entity.get("value")))
                if phone:
                    return {"contact_phone": phone}
        if not asked:
            return {}
        phone = normalise_phone(tracker.latest_message.get("text") or "")
        if phone:
            return {"contact_phone": phone}
        if _is_interruption(tracker):
            return {}
        dispatcher.utter_message(response="utter_phone_invalid")
        return {"contact_phone": None}


class ActionAskConsentGiven(Action):
    """Asks consent naming the actual receiving team, so the resident knows who gets what."""

    def name(self) -> str:
        return "action_ask_consent_given"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        chosen = route_for(tracker, load_regions())
        _, template = current_consent()
        text = template.format(team=chosen.team_name, organisatie=chosen.organisation_name)
        dispatcher.utter_message(**choice_message(text, YES_NO, channel_of(tracker)))
        return []


class ActionSubmitHandover(Action):
    def name(self) -> str:
        return "action_submit_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        regions = load_regions()
        reset = end_of_handover()
        municipality = known_municipality(tracker, regions)
        if tracker.get_slot("consent_given") is not True or municipality is None:
            dispatcher.utter_message(response="utter_consent_denied")
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
            reference, queued = await self.deliver(payload, key)
        except HandoverApiRejected as exc:
            # Our request was wrong (a bug, not the resident's fault): say so and give a way on.
            logger.error("handover rejected (status %s): %s", exc.status, exc.detail)
            dispatcher.utter_message(response="utter_handover_failed")
            return reset
        dispatcher.utter_message(
            response="utter_handover_queued" if queued else "utter_handover_done",
            reference=reference,
            team=chosen.team_name,
            organisatie=chosen.organisation_name,
            telefoon=display_phone(payload["contact"]["phone"]),
        )
        return [*reset, *ref_events, SlotSet("handover_reference", reference)]

    @staticmethod
    def build_payload(
        tracker: Tracker,
        chosen: Route,
        municipality_code: str,
        municipality_name: str,
        conversation_id: str,
    ) -> dict[str, Any]:
        channel = channel_of(tracker)
        domains: list[str] = tracker.get_slot("leefgebieden") or []
        evidence: dict[str, list[str]] = tracker.get_slot("leefgebied_bewijs") or {}
        service = requested_service(tracker)
        regeling = tracker.get_slot("regeling")
        phone = tracker.get_slot("contact_phone")
        crisis = tracker.get_slot("crisis_type")
        preferred = channel if channel in ("sms", "whatsapp") else "phone"
        question = SERVICE_LABELS.get(service, service) if service else None
        return {
            "reference": make_reference(f"{tracker.sender_id}|{tracker.get_slot('consent_at')}"),
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
            ),
            "application": (
                {
                    "type": regeling,
                    "complete": False,
                    "fields": {
                        "gemeente": municipality_name,
                        "gemeentecode": municipality_code,
                        "telefoonnummer": phone,
                    },
                }
                if regeling in SERVICE_FOR_REGELING
                else None
            ),
            "contact": {
                "name": tracker.get_slot("contact_name"),
                "phone": phone,
                "email": None,
                "preferred": preferred,
                "best_time": None,
            },
            "consent": {
                "given": True,
                "at": tracker.get_slot("consent_at"),
                "text_version": tracker.get_slot("consent_version"),
            },
            "transcript": transcript_events(tracker),
        }

    @staticmethod
    async def deliver(payload: dict[str, Any], key: str) -> tuple[str, bool]:
        """Creates the handover; returns (reference, queued?)."""
        settings = get_settings()
        client = HandoverApiClient(settings)
        outbox = Outbox(settings.outbox_path)
        try:
            await deliver_due(outbox, client)  # older queued handovers first
            for attempt in range(3):
                try:
                    created = await client.create_handover(payload, key)
                    return str(created["reference"]), False
                except HandoverApiRejected as exc:
                    if exc.status != 409 or attempt == 2:
                        raise
                    # the short reference collided with another handover: pick the next one
                    payload["reference"] = make_reference(key, attempt + 1)
        except HandoverApiUnavailable as exc:
            logger.warning("handover API unavailable, queued %s: %s", key[:12], exc)
            outbox.enqueue(key, payload, str(exc))
            ensure_retry_loop(outbox, client, settings.retry_seconds)
            return str(payload["reference"]), True
        raise AssertionError("unreachable")


class ActionStopHandover(Action):
    """The resident stops the form: nothing is shared and nothing half-asked is kept."""

    def name(self) -> str:
        return "action_stop_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_stopped")
        return end_of_handover()
