"""What many conversation steps do the same way: start the handover, end with a way forward,
acknowledge anger, answer "wanneer bellen ze?", find the question in a message, and the checks
that come before anything else. Shared by actions/dialogue.py (replies), actions/answers.py
(knowledge answers) and actions/situation.py (stories), none of which imports another.
"""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.application_start import start_application
from actions.follow_ups import answer_follow_up
from actions.knowledge import load_knowledge
from actions.language import english_first
from actions.municipality import known_municipality
from actions.pending import ask, back_to_pending, clear
from actions.privacy_requests import bsn_notice, handle_privacy_request
from actions.process_questions import answer_process_question
from actions.regions import load_regions
from actions.replies import asks_when_contact, is_question, safe_contact
from actions.signals import latest_text, requested_service
from actions.way_forward import expected_contact, sooner, way_forward

ANGER_ACK = (
    "Wat vervelend dat het zo loopt. Ik begrijp dat u boos bent, en het spijt me dat u zo lang "
    "moet wachten of niet geholpen bent."
)


def start_handover(
    dispatcher: CollectingDispatcher, tracker: Tracker, condition: str | None = None
) -> list[EventType]:
    """The resident wants a professional: note any condition they set, then run the form —
    as an application when they asked to apply for something ("ik wil bijzondere bijstand
    aanvragen voor een wasmachine")."""
    events: list[EventType] = [*clear()]
    if condition:
        notes = [*(tracker.get_slot("resident_notes") or []), condition]
        events.append(SlotSet("resident_notes", notes))
        if safe_contact(condition):
            events.append(SlotSet("safe_contact", condition))  # "ja maar pas na 15 uur"
        # Straight quotes: curly ones are not GSM-7 and would shorten every SMS segment.
        dispatcher.utter_message(text=f'Goed. Dit geef ik door aan de medewerker: "{condition}".')
    started = start_application(dispatcher, tracker)
    if started is None:
        dispatcher.utter_message(response="utter_handover_intro")
    return [*events, *(started or []), FollowupAction("handover_form")]


def end_with_way_forward(
    dispatcher: CollectingDispatcher, tracker: Tracker, lead: str = "Dat is goed."
) -> list[EventType]:
    """A "no" or "stop": say it is fine, and leave the resident somewhere to go."""
    regions = load_regions()
    municipality = known_municipality(tracker, regions)
    dispatcher.utter_message(
        text=f"{lead} {way_forward(regions, municipality, requested_service(tracker))}"
    )
    return clear()


def acknowledge_anger(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Acknowledge first; then a person (or, after a handover, how to reach them sooner)."""
    dispatcher.utter_message(text=ANGER_ACK)
    if tracker.active_loop_name:
        dispatcher.utter_message(text="Ik help u zo snel mogelijk verder.")
        return []
    reference = tracker.get_slot("handover_reference")
    destination = tracker.get_slot("handover_destination") or {}
    if reference and destination:
        regions = load_regions()
        dispatcher.utter_message(
            text=f"Uw vraag is al doorgegeven, kenmerk {reference}. "
            + sooner(regions, destination["organisation"], destination["team"])
        )
        return clear()
    return ask(
        dispatcher,
        tracker,
        "handover",
        "Wilt u dat een medewerker u belt om het samen op te lossen?",
    )


def answer_when_contact(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """'wanneer bellen ze dan?' after a handover: the service level and how to reach them
    sooner, instead of an answer about something else."""
    destination = tracker.get_slot("handover_destination") or {}
    made = tracker.get_slot("handovers_made") or []
    if not destination or not made or not asks_when_contact(latest_text(tracker)):
        return None
    regions = load_regions()
    organisation, team = destination["organisation"], destination["team"]
    urgent = any(h.get("crisis") for h in made) or bool(tracker.get_slot("urgent_signal"))
    dispatcher.utter_message(
        text=f"Uw kenmerk is {made[-1]['reference']}. "
        + expected_contact(regions, organisation, team, urgent)
        + " "
        + sooner(regions, organisation, team)
    )
    return []


# The question a message asks when it names a scheme ("hoe moet ik bijstand aanvragen") but
# the classifier is not sure which question it is.
QUESTION_OF_REGELING = {
    "bijstand": "ask_bijstand",
    "bijzondere_bijstand": "ask_bijzondere_bijstand",
    "schuldhulp": "ask_schuldhulp",
    "wmo": "ask_wmo",
    "minimaregeling": "ask_minimaregelingen",
}


def question_intent(tracker: Tracker, minimum: float = 0.35) -> str | None:
    """The knowledge question inside a message the classifier read as a story or did not
    understand: the best `ask_*` intent of the ranking when it is at least ``minimum`` sure,
    else the question about the scheme the message names. Below that, a story gets the
    story's answer (who can help), not a knowledge text picked on a weak guess (the review
    found an energy cut-off answered with "ik kan uw dossier niet inzien")."""
    if not is_question(latest_text(tracker)):
        return None
    for ranked in tracker.latest_message.get("intent_ranking") or []:
        name = str(ranked.get("name") or "")
        if name.startswith("ask_") and float(ranked.get("confidence") or 0) >= minimum:
            return name
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "regeling" and entity.get("value") in QUESTION_OF_REGELING:
            return QUESTION_OF_REGELING[str(entity["value"])]
    return None


def intent_of_topic(topic: str | None) -> str | None:
    """An intent that the knowledge entry of ``topic`` answers (to answer it once more)."""
    if not topic:
        return None
    entries = load_knowledge().entries
    return entries[topic].intents[0] if topic in entries and entries[topic].intents else None


def before_anything_else(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """What every answer to a resident's message checks first: a BSN (warned once), a
    withdrawal or erasure request (confirmed), an English message (answered in English), a
    question about the handover itself, a short follow-up on the topic ("is dat gratis?") and
    "wanneer bellen ze?" after a handover. Returns the
    events when one of them took the turn, else None."""
    bsn_notice(dispatcher, tracker)
    privacy = handle_privacy_request(dispatcher, tracker)
    if privacy is not None:
        return privacy
    english = english_first(dispatcher, tracker)
    if english is not None:
        return english
    if not tracker.active_loop_name and answer_process_question(dispatcher, tracker):
        # "wordt mijn bsn ook doorgestuurd?", "wie kan dit lezen?" — whatever topic the
        # classifier saw in the words. (In the form, its validation answers them.)
        return []
    followed = None if tracker.active_loop_name else answer_follow_up(dispatcher, tracker)
    if followed is not None:
        # "is dat gratis?": the fact asked for, then back once to a question still open.
        return [*followed, *back_to_pending(dispatcher, tracker)]
    return answer_when_contact(dispatcher, tracker)


def with_slots(tracker: Tracker, events: list[EventType]) -> Tracker:
    """A copy of the tracker with this turn's slot events applied, for a step that must see
    what was just remembered (e.g. the municipality named in the same message)."""
    copy = tracker.copy()
    copy.slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
    return copy
