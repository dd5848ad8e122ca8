"""Privacy in the conversation itself: withdrawing consent, "verwijder mijn gegevens", and a
BSN typed into the chat.

- Withdrawal: after confirming, every handover of this conversation session gets
  `POST /api/v1/handovers/{id}/consent-withdrawal`; one still waiting in the outbox is cancelled
  (then nothing was shared). If the API is down, the withdrawal is queued and retried. The
  resident hears what happens next and whom to ask about their data.
- Erasure (AVG art. 17): the same withdrawal, the details the assistant remembered are
  forgotten now, and the review copy of this conversation session (what the front office reads
  to improve the chat) is deleted: `DELETE /api/v1/conversations/{conversation_ref}`, which
  also makes the API drop the events of this session that arrive later (this very turn among
  them). The erasure is queued in the outbox before it is sent, so an API that is down delays
  it but never loses it. The resident hears what happens and where to ask for erasure of what
  an organisation already received (their privacy officer).
- BSN: the input channel already removed it (bot/channels/privacy.py) and left the marker
  `[BSN]`; the resident gets a short warning once per message.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.application import end_of_application
from actions.clients.handover_api import HandoverApiClient
from actions.config import get_settings
from actions.outbox import Outbox, deliver_due, ensure_retry_loop
from actions.pending import ask, clear
from actions.process_questions import answer_process_question
from actions.replies import Kind, Reply, asks_erasure, asks_withdrawal
from actions.session import conversation_ref
from actions.signals import latest_intent, latest_text, said_this_turn
from privacy.redaction import BSN, BSN_REMOVED

BSN_WARNING = (
    "Let op: deel hier nooit uw BSN. Ik heb het nummer weggehaald. Het wordt niet bewaard en "
    "niet doorgegeven."
)
CONFIRM_WITHDRAW = (
    "U wilt uw toestemming intrekken. Dan ziet de organisatie die uw vraag kreeg uw gesprek en "
    "gegevens niet meer. Weet u het zeker?"
)
CONFIRM_ERASE = (
    "U wilt dat uw gegevens verwijderd worden. Ik trek dan ook uw toestemming in, zodat niemand "
    "uw gesprek nog kan inzien. Weet u het zeker?"
)
NOTHING_SHARED = (
    "In dit gesprek heb ik nog niets doorgegeven, dus er is geen toestemming om in te trekken."
)
ERASED = (
    "Wat u mij vertelde, vergeet ik nu. De kopie van dit gesprek voor de kwaliteitscontrole "
    "wordt nu verwijderd."
)
ERASURE_QUEUED = (
    "Wat u mij vertelde, vergeet ik nu. De kopie van dit gesprek voor de kwaliteitscontrole "
    "wordt zo snel mogelijk verwijderd. Dat lukt op dit moment niet meteen."
)


def bsn_notice(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """A short warning when the latest message had a BSN (already removed by the channel)."""
    text = latest_text(tracker)
    if (BSN in text or BSN_REMOVED in text) and BSN_WARNING not in said_this_turn(tracker):
        dispatcher.utter_message(text=BSN_WARNING)


def handle_privacy_request(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType] | None:
    """Asks to confirm a withdrawal or erasure named in the latest message; None if none."""
    text = latest_text(tracker)
    if asks_withdrawal(text):
        return ask(dispatcher, tracker, "withdraw", CONFIRM_WITHDRAW)
    if asks_erasure(text):
        return ask(dispatcher, tracker, "erase", CONFIRM_ERASE)
    return None


class ActionPrivacyRequest(Action):
    """Intent withdraw_consent or erase_data: ask to confirm (the text decides which, when it
    says; else the intent)."""

    def name(self) -> str:
        return "action_privacy_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        asked = handle_privacy_request(dispatcher, tracker)
        if asked is not None:
            return asked
        if answer_process_question(dispatcher, tracker):
            return []  # "wordt mijn bsn ook doorgestuurd?" is a question, not a withdrawal
        if latest_intent(tracker) == "erase_data":
            return ask(dispatcher, tracker, "erase", CONFIRM_ERASE)
        return ask(dispatcher, tracker, "withdraw", CONFIRM_WITHDRAW)


async def privacy_reply(
    dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, reply: Reply
) -> list[EventType]:
    """The answer to "Weet u het zeker?" for a withdrawal or an erasure."""
    if reply.kind is not Kind.YES:
        dispatcher.utter_message(
            text="Goed, ik verander niets. Uw toestemming blijft zoals die was."
            if kind == "withdraw"
            else "Goed, ik verander niets."
        )
        return clear()
    settings = get_settings()
    outbox = Outbox(settings.outbox_path)
    handovers = list(tracker.get_slot("handovers_made") or [])
    events: list[EventType] = [*clear()]
    erase_ref: str | None = None
    if kind == "erase":
        erase_ref, ref_events = conversation_ref(tracker)
        events += ref_events
        outbox.enqueue_erasure(erase_ref)  # queued before anything else: never lost
    delivered = queue_withdrawals(outbox, handovers)
    if delivered or erase_ref:
        await deliver(outbox)
    if handovers:
        refs = ", ".join(h["reference"] for h in handovers)
        if delivered:
            names = sorted({h.get("organisation_name") or "de organisatie" for h in delivered})
            dispatcher.utter_message(
                text=f"Uw toestemming is ingetrokken (kenmerk {refs}). {' en '.join(names)} ziet "
                "uw gesprek, samenvatting en telefoonnummer niet meer. Alleen dat er een vraag "
                "was en dat u uw toestemming introk, blijft zichtbaar."
            )
        else:
            dispatcher.utter_message(
                text=f"Uw toestemming is ingetrokken (kenmerk {refs}). Uw vraag was nog niet "
                "verstuurd: ik heb het doorgeven geannuleerd. Er is niets gedeeld."
            )
        events += [
            SlotSet("handovers_made", []),
            SlotSet("handover_reference", None),
            SlotSet("handover_destination", None),
        ]
    elif kind == "withdraw":
        dispatcher.utter_message(text=NOTHING_SHARED)
    if erase_ref is not None:
        erased_now = erase_ref not in outbox.due_erasures()
        dispatcher.utter_message(text=ERASED if erased_now else ERASURE_QUEUED)
        events += [
            SlotSet("contact_phone", None),
            SlotSet("contact_name", None),
            SlotSet("phone_offered", None),
            SlotSet("resident_notes", None),
            SlotSet("leefgebied_bewijs", None),
            *end_of_application(stopped=True),  # an application's answers too
        ]
    dispatcher.utter_message(
        text="Vragen over uw gegevens? Vraag de functionaris gegevensbescherming (privacy) van "
        "uw gemeente of van de organisatie die uw vraag kreeg. Noem dan uw kenmerk."
        if handovers
        else "Vragen over uw gegevens? Vraag de functionaris gegevensbescherming (privacy) van "
        "uw gemeente."
    )
    return events


def queue_withdrawals(outbox: Outbox, handovers: list[dict[str, str]]) -> list[dict[str, str]]:
    """Queues the withdrawal of each handover that reached the API and cancels those still
    waiting in the outbox; returns the ones that had reached the API."""
    delivered = []
    for handover in handovers:
        if outbox.cancel(handover["key"]):
            continue  # never delivered: nothing was shared
        if not handover.get("id"):
            continue
        outbox.enqueue_withdrawal(handover["id"])
        delivered.append(handover)
    return delivered


async def deliver(outbox: Outbox) -> None:
    """Sends what is queued now (returns at once when the API is down); what stays queued is
    retried in the background."""
    settings = get_settings()
    client = HandoverApiClient(settings)
    await deliver_due(outbox, client)
    if outbox.pending_count():
        ensure_retry_loop(outbox, client, settings.retry_seconds)
