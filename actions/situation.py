"""A resident tells their situation instead of asking a question: listen, remember which life
domains came up (with their own words as evidence), and offer a professional who can help."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import YES_NO, channel_of, choice_message
from actions.crisis import urgency_events
from actions.routing import is_multi_problem

LIFE_DOMAIN_ENTITY = "leefgebied"


def accumulate_domains(
    tracker: Tracker,
) -> tuple[list[str], dict[str, list[str]]]:
    """Life domains of the whole conversation so far, plus this message's, with evidence."""
    domains: list[str] = list(tracker.get_slot("leefgebieden") or [])
    evidence: dict[str, list[str]] = dict(tracker.get_slot("leefgebied_bewijs") or {})
    text = tracker.latest_message.get("text") or ""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") != LIFE_DOMAIN_ENTITY:
            continue
        code = str(entity.get("value"))
        if code not in domains:
            domains.append(code)
        start, end = entity.get("start"), entity.get("end")
        words = text[start:end] if isinstance(start, int) and isinstance(end, int) else code
        if words and words not in evidence.setdefault(code, []):
            evidence[code].append(words)
    return domains, evidence


class ActionRespondSituation(Action):
    def name(self) -> str:
        return "action_respond_situation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        domains, evidence = accumulate_domains(tracker)
        events: list[EventType] = [
            SlotSet("leefgebieden", domains),
            SlotSet("leefgebied_bewijs", evidence),
            *urgency_events(tracker),
        ]
        if tracker.active_loop_name:
            # A handover is already being prepared: this goes along with it.
            dispatcher.utter_message(text="Dank u, dat geef ik door aan de medewerker.")
            return events
        if is_multi_problem(domains):
            text = (
                "Dank u dat u dit vertelt. Er speelt veel tegelijk. Een medewerker van het "
                "wijkteam in uw gemeente kan u helpen met alles samen, met één plan."
            )
        else:
            text = "Dank u dat u dit vertelt. Een medewerker kan met u meekijken."
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(
            **choice_message(
                "Wilt u dat een medewerker contact met u opneemt?", YES_NO, channel_of(tracker)
            )
        )
        return [*events, SlotSet("handover_offered", True)]
