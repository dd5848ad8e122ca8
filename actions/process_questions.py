"""Questions about the handover itself, asked in the middle of it: "wanneer bellen ze dan?",
"wat betekent delen?", "wie leest dit allemaal?", "wat is mijn kenmerk?". They are answered on
the spot, and the
question the assistant was asking is asked again — instead of "Kies Ja of Nee" or an answer
about something else (the review found "wanneer bellen ze?" answered with payment dates).
"""

import re

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.config import get_settings
from actions.regions import load_regions
from actions.replies import asks_reference, asks_when_contact
from actions.signals import latest_text, requested_service
from actions.way_forward import expected_contact, what_to_have_at_hand

_MEANING_OF_SHARING = re.compile(
    r"\b(?:wat (?:betekent|is|bedoel\w*)|snap|begrijp)\b.*\bdel(?:en|t)\b"
)
_WHO_READS = re.compile(
    r"\b(?:wie|wat)\b.*\b(?:leest|lezen|ziet|zien|krijgt|krijgen)\b.*\b(?:dit|mee|gesprek|chat|"
    r"gegevens)\b|\b(?:kan|kunnen)\b.*\b(?:meelezen|meekijken|zien|lezen)\b.*\b(?:ex|man|vrouw|"
    r"partner|werkgever|gemeente|iemand)\b|\bwordt mijn bsn\b|\bmijn bsn ook\b|"
    r"\bkunnen (?:die|zij|ze)\b.*\b(?:zien|lezen|meelezen)\b"
)

SHARING_MEANS = (
    "Delen betekent: ik stuur uw vraag en dit gesprek naar de medewerker die u gaat helpen. Dan "
    "hoeft u niet alles opnieuw te vertellen. Zonder uw ja deel ik niets."
)
WHO_READS = (
    "Alleen de medewerker die uw vraag krijgt, en alleen als u ja zegt. Verder niemand: niet uw "
    "familie, niet uw werkgever. Uw BSN deel ik nooit. U kunt uw toestemming later intrekken."
)


_ANONYMOUS = re.compile(r"\b(?:is dit|is het|blijf ik|kan het|mag het) anoniem\b|\banoniem\?")
_RETENTION = re.compile(r"\bhoe lang\b.*\b(?:bewaren|bewaard|opgeslagen|houden)\b")
_WHAT_FIRST = re.compile(
    r"\bwat (?:moet|kan) ik (?:nu |als eerste |eerst |intussen )+(?:doen|regelen)\b"
)


NO_REFERENCE = (
    "In dit gesprek is nog geen vraag aan een medewerker doorgegeven, dus u heeft nog geen "
    "kenmerk. Wilt u dat een medewerker contact met u opneemt? Typ dan 'medewerker'."
)


def reference_answer(tracker: Tracker) -> str:
    """The reference(s) of the handovers made in this conversation, or that there is none."""
    made = [h for h in tracker.get_slot("handovers_made") or [] if h.get("reference")]
    if not made and tracker.get_slot("handover_reference"):
        made = [{"reference": tracker.get_slot("handover_reference")}]
    if not made:
        return NO_REFERENCE
    if len(made) == 1:
        to = made[0].get("organisation_name")
        return f"Uw kenmerk is {made[0]['reference']}." + (
            f" Noem het als {to} contact met u opneemt." if to else ""
        )
    listed = [
        f"{h['reference']} ({h['organisation_name']})"
        if h.get("organisation_name")
        else str(h["reference"])
        for h in made
    ]
    return (
        f"U heeft in dit gesprek {len(made)} vragen doorgegeven. Uw kenmerken zijn "
        f"{', '.join(listed[:-1])} en {listed[-1]}."
    )


def answer_process_question(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    route: tuple[str, str, bool] | None = None,
) -> bool:
    """Answers a question about the handover process; True when it did. ``route`` is
    (organisation, team, urgent) when the destination is already known."""
    text = latest_text(tracker).lower()
    if asks_reference(text):
        dispatcher.utter_message(text=reference_answer(tracker))
        return True
    if asks_when_contact(text):
        if route is not None:
            organisation, team, urgent = route
            dispatcher.utter_message(
                text="Na het doorgeven: "
                + expected_contact(load_regions(), organisation, team, urgent)
            )
        else:
            dispatcher.utter_message(
                text="Na het doorgeven neemt een medewerker binnen een paar werkdagen contact met "
                "u op. Is het dringend, dan krijgt u voorrang."
            )
        return True
    if _MEANING_OF_SHARING.search(text):
        dispatcher.utter_message(text=SHARING_MEANS)
        return True
    if _WHO_READS.search(text):
        dispatcher.utter_message(text=WHO_READS)
        return True
    if _ANONYMOUS.search(text):
        dispatcher.utter_message(
            text="Dit gesprek is vertrouwelijk. Zonder uw ja deel ik niets. Om u te helpen heeft "
            "de medewerker wel uw gemeente en telefoonnummer nodig. Helemaal anoniem is het dan "
            "niet."
        )
        return True
    if _RETENTION.search(text):
        days = get_settings().conversation_retention_days
        dispatcher.utter_message(
            text=f"Zonder doorgeven bewaren wij dit gesprek {days} dagen; daarna wordt het "
            "verwijderd. Geeft u het door, dan bewaart de organisatie die u helpt het zo lang als "
            "nodig is voor uw hulp. U kunt uw toestemming altijd intrekken."
        )
        return True
    if _WHAT_FIRST.search(text):
        service = requested_service(tracker)
        crisis = bool(tracker.get_slot("crisis_type"))
        dispatcher.utter_message(
            text="Zoek alvast op wat de medewerker nodig heeft. "
            + what_to_have_at_hand(service, crisis)
            + " Komt er een brief met een datum, zoals van een deurwaarder? Noem die meteen."
        )
        return True
    return False
