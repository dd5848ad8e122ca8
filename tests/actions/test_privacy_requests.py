"""Withdrawing consent, "verwijder mijn gegevens" and a BSN in the chat, against the fake
handover API (actions/privacy_requests.py)."""

import os
from typing import Any

import pytest

from actions import privacy_requests
from actions.clients.handover_api import HandoverApiClient
from actions.config import get_settings
from actions.dialogue import ActionAcknowledgeAnger, ActionReply
from actions.handover import ActionSubmitHandover, current_consent
from actions.outbox import Outbox, deliver_due
from actions.privacy_requests import (
    BSN_WARNING,
    CONFIRM_ERASE,
    CONFIRM_WITHDRAW,
    ERASED,
    ERASURE_QUEUED,
    NOTHING_SHARED,
    ActionPrivacyRequest,
    bsn_notice,
)
from privacy.redaction import BSN_REMOVED
from tests.actions.conftest import make_tracker

NOWHERE = "http://127.0.0.1:9"  # nothing listens there: the API is down
YES_NO = [["Ja", "/affirm"], ["Nee", "/deny"]]


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _confirming(kind: str, **slots: Any) -> dict[str, Any]:
    """The slots while "Weet u het zeker?" is pending (over whatever the earlier steps set)."""
    return {
        **slots,
        "awaiting_reply": True,
        "pending": kind,
        "pending_question": CONFIRM_WITHDRAW if kind == "withdraw" else CONFIRM_ERASE,
        "pending_choices": YES_NO,
        "pending_retries": 0,
    }


def _consented(**extra: Any) -> dict[str, Any]:
    return {
        "gemeente_code": "GM0794",
        "gemeente": "Helmond",
        "service": "bijstand_intake",
        "consent_given": True,
        "consent_at": "2026-12-02T08:00:00+00:00",
        "consent_version": current_consent()[0],
        "contact_phone": "0612345678",
        "conversation_ref": "c-0123456789abcdef0123456789abcdef",
        **extra,
    }


async def _submit(dispatcher) -> dict[str, Any]:
    """A handover made in this conversation; returns the slots it set."""
    events = await ActionSubmitHandover().run(dispatcher, make_tracker(slots=_consented()), {})
    dispatcher.messages.clear()
    return _slots(events)


async def _confirm(dispatcher, kind: str, answer: str = "ja", **slots: Any) -> list:
    intent = "affirm" if answer == "ja" else "deny"
    tracker = make_tracker(text=answer, intent=intent, slots=_confirming(kind, **slots))
    return await ActionReply().run(dispatcher, tracker, {})


@pytest.fixture
def retry_loops(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records background retry loops instead of starting them."""
    started: list[float] = []
    monkeypatch.setattr(
        privacy_requests,
        "ensure_retry_loop",
        lambda outbox, client, every: started.append(every),
    )
    monkeypatch.setattr(
        "actions.handover.ensure_retry_loop", lambda outbox, client, every: started.append(every)
    )
    return started


# --- asking to confirm -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "kind", "question"),
    [
        ("ik wil mijn toestemming intrekken", "withdraw_consent", "withdraw", CONFIRM_WITHDRAW),
        ("verwijder mijn gegevens", "erase_data", "erase", CONFIRM_ERASE),
        # the text decides when it says which; else the intent
        ("verwijder mijn gegevens", "withdraw_consent", "erase", CONFIRM_ERASE),
        ("kan dat ongedaan?", "withdraw_consent", "withdraw", CONFIRM_WITHDRAW),
        ("weg ermee", "erase_data", "erase", CONFIRM_ERASE),
    ],
)
async def test_a_privacy_request_is_confirmed_first(dispatcher, text, intent, kind, question):
    tracker = make_tracker(text=text, intent=intent)
    events = await ActionPrivacyRequest().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == question
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    slots = _slots(events)
    assert slots["pending"] == kind and slots["awaiting_reply"] is True


# --- withdrawal ------------------------------------------------------------------------------


async def test_withdrawal_reaches_the_api_for_a_delivered_handover(
    fake_api, dispatcher, retry_loops
) -> None:
    made = (await _submit(dispatcher))["handovers_made"]
    (handover,) = made
    assert handover["id"] == "id-1"

    events = await _confirm(dispatcher, "withdraw", handovers_made=made)
    withdrawal = fake_api.requests[-1]
    assert withdrawal["method"] == "POST"
    assert withdrawal["path"] == "/api/v1/handovers/id-1/consent-withdrawal"
    assert withdrawal["headers"]["Authorization"] == "Bearer test-service-token"
    assert fake_api.withdrawn == ["id-1"]
    assert Outbox(get_settings().outbox_path).pending_count() == 0
    assert retry_loops == []

    first = dispatcher.messages[0]["text"]
    assert first.startswith(f"Uw toestemming is ingetrokken (kenmerk {handover['reference']}).")
    assert "Senzer ziet uw gesprek" in first
    assert "functionaris gegevensbescherming" in dispatcher.messages[-1]["text"]
    assert "kenmerk" in dispatcher.messages[-1]["text"]
    slots = _slots(events)
    assert slots["handovers_made"] == []
    assert slots["pending"] is None and slots["awaiting_reply"] is False


async def test_withdrawal_cancels_a_handover_still_in_the_outbox(
    fake_api, dispatcher, retry_loops
) -> None:
    fake_api.fail_with = 503  # the API is down when the handover is made: it is queued
    made = (await _submit(dispatcher))["handovers_made"]
    assert made[0]["id"] is None
    outbox = Outbox(get_settings().outbox_path)
    assert len(outbox.due()) == 1
    fake_api.fail_with = None
    sent_before = len(fake_api.requests)

    await _confirm(dispatcher, "withdraw", handovers_made=made)
    assert outbox.due() == [] and outbox.pending_count() == 0  # never delivered: nothing shared
    assert len(fake_api.requests) == sent_before  # no withdrawal call, no late delivery
    assert fake_api.withdrawn == [] and fake_api.by_key == {}
    assert "ingetrokken" in dispatcher.messages[0]["text"]


async def test_api_down_queues_the_withdrawal_and_delivers_it_later(
    fake_api, monkeypatch, dispatcher, retry_loops
) -> None:
    fake_api.add_handover("id-7")
    made = [
        {
            "id": "id-7",
            "key": "key-7",
            "reference": "VD-ABCD-12",
            "service": "bijstand_intake",
            "crisis": None,
            "organisation_name": "Senzer",
        }
    ]
    up = os.environ["HANDOVER_API_URL"]
    monkeypatch.setenv("HANDOVER_API_URL", NOWHERE)
    events = await _confirm(dispatcher, "withdraw", handovers_made=made)
    outbox = Outbox(get_settings().outbox_path)
    assert outbox.due_withdrawals() == ["id-7"]  # recorded, not lost
    assert retry_loops, "a retry loop delivers it later"
    assert "ingetrokken (kenmerk VD-ABCD-12)" in dispatcher.messages[0]["text"]
    assert _slots(events)["handovers_made"] == []
    assert fake_api.withdrawn == []

    monkeypatch.setenv("HANDOVER_API_URL", up)
    await deliver_due(outbox, HandoverApiClient(get_settings()))
    assert fake_api.withdrawn == ["id-7"]
    assert outbox.due_withdrawals() == [] and outbox.pending_count() == 0


async def test_withdrawal_without_a_handover_says_nothing_was_shared(fake_api, dispatcher):
    events = await _confirm(dispatcher, "withdraw")
    assert dispatcher.messages[0]["text"] == NOTHING_SHARED
    assert "nog niets doorgegeven" in NOTHING_SHARED
    assert fake_api.requests == []
    assert "handovers_made" not in _slots(events)
    assert "kenmerk" not in dispatcher.messages[-1]["text"]


@pytest.mark.parametrize("kind", ["withdraw", "erase"])
async def test_no_at_the_confirmation_changes_nothing(fake_api, dispatcher, kind) -> None:
    made = [{"id": "id-1", "key": "k", "reference": "VD-ABCD-12", "organisation_name": "X"}]
    events = await _confirm(dispatcher, kind, "nee", handovers_made=made, contact_phone="06")
    assert dispatcher.messages[0]["text"].startswith("Goed, ik verander niets.")
    assert fake_api.requests == []
    slots = _slots(events)
    assert "handovers_made" not in slots and "contact_phone" not in slots
    assert slots["pending"] is None


# Found 2026-12-02: privacy_reply cleared handovers_made but kept handover_reference /
# handover_destination, which acknowledge_anger reads.
async def test_anger_after_a_withdrawal_does_not_claim_the_question_was_passed_on(
    fake_api, dispatcher, retry_loops
) -> None:
    state = await _submit(dispatcher)
    state.update(_slots(await _confirm(dispatcher, "withdraw", **state)))
    dispatcher.messages.clear()
    tracker = make_tracker(text="belachelijk dit", intent="express_anger", slots=state)
    await ActionAcknowledgeAnger().run(dispatcher, tracker, {})
    assert all("al doorgegeven" not in m["text"] for m in dispatcher.messages)


# --- erasure ---------------------------------------------------------------------------------


REF = "c-0123456789abcdef0123456789abcdef"


async def test_erasure_withdraws_forgets_and_erases_the_review_copy(
    fake_api, dispatcher, retry_loops
) -> None:
    made = (await _submit(dispatcher))["handovers_made"]
    events = await _confirm(
        dispatcher,
        "erase",
        handovers_made=made,
        conversation_ref=REF,
        contact_phone="0612345678",
        contact_name="Sam",
        resident_notes=["hij mag het niet weten"],
        leefgebied_bewijs={"schulden": ["schulden"]},
    )
    assert fake_api.withdrawn == ["id-1"]
    assert fake_api.erased == [REF]
    erasure = fake_api.requests[-1]
    assert erasure["method"] == "DELETE" and erasure["path"] == f"/api/v1/conversations/{REF}"
    assert erasure["headers"]["Authorization"] == "Bearer test-service-token"
    assert Outbox(get_settings().outbox_path).pending_count() == 0
    assert retry_loops == []
    texts = [m["text"] for m in dispatcher.messages]
    assert any("ingetrokken" in t for t in texts)
    assert ERASED in texts
    assert "vergeet ik nu" in ERASED and "kwaliteitscontrole wordt nu verwijderd" in ERASED
    assert not any("automatisch verwijderd" in t or "dagen" in t for t in texts)
    assert "functionaris gegevensbescherming" in texts[-1]
    slots = _slots(events)
    for name in ("contact_phone", "contact_name", "phone_offered", "resident_notes"):
        assert slots[name] is None, name
    assert slots["leefgebied_bewijs"] is None
    assert slots["handovers_made"] == []
    assert "conversation_ref" not in slots  # the session keeps its reference


async def test_erasure_without_a_handover_still_erases_the_review_copy(fake_api, dispatcher):
    events = await _confirm(dispatcher, "erase", conversation_ref=REF, contact_phone="0612345678")
    texts = [m["text"] for m in dispatcher.messages]
    assert NOTHING_SHARED not in texts  # an erasure is not about consent
    assert ERASED in texts
    assert [(r["method"], r["path"]) for r in fake_api.requests] == [
        ("DELETE", f"/api/v1/conversations/{REF}")
    ]
    assert fake_api.erased == [REF]
    assert _slots(events)["contact_phone"] is None


async def test_erasure_of_a_session_without_a_reference_uses_the_derived_one(
    fake_api, dispatcher
) -> None:
    events = await _confirm(dispatcher, "erase")
    (ref,) = fake_api.erased
    assert ref.startswith("c-")
    assert _slots(events)["conversation_ref"] == ref  # later events carry it: then dropped


async def test_api_down_queues_the_erasure_and_delivers_it_later(
    fake_api, monkeypatch, dispatcher, retry_loops
) -> None:
    up = os.environ["HANDOVER_API_URL"]
    monkeypatch.setenv("HANDOVER_API_URL", NOWHERE)
    events = await _confirm(dispatcher, "erase", conversation_ref=REF, contact_phone="06")
    outbox = Outbox(get_settings().outbox_path)
    assert outbox.due_erasures() == [REF]  # recorded, not lost
    assert outbox.pending_count() == 1
    assert retry_loops, "a retry loop delivers it later"
    texts = [m["text"] for m in dispatcher.messages]
    assert ERASURE_QUEUED in texts and ERASED not in texts
    assert "zo snel mogelijk verwijderd" in ERASURE_QUEUED
    assert _slots(events)["contact_phone"] is None  # forgotten now all the same
    assert fake_api.erased == []

    # survives a restart of the action server: the queue is on disk
    monkeypatch.setenv("HANDOVER_API_URL", up)
    await deliver_due(Outbox(get_settings().outbox_path), HandoverApiClient(get_settings()))
    assert fake_api.erased == [REF]
    assert outbox.due_erasures() == [] and outbox.pending_count() == 0


async def test_server_error_keeps_the_erasure_queued(fake_api, dispatcher, retry_loops) -> None:
    fake_api.fail_with = 503
    await _confirm(dispatcher, "erase", conversation_ref=REF)
    outbox = Outbox(get_settings().outbox_path)
    assert outbox.due_erasures() == [REF] and retry_loops
    assert ERASURE_QUEUED in [m["text"] for m in dispatcher.messages]
    fake_api.fail_with = None
    await deliver_due(outbox, HandoverApiClient(get_settings()))
    assert fake_api.erased == [REF] and outbox.pending_count() == 0


# --- BSN ------------------------------------------------------------------------------------


def test_bsn_notice_only_when_the_channel_removed_a_bsn(dispatcher) -> None:
    bsn_notice(dispatcher, make_tracker(text=f"mijn bsn is {BSN_REMOVED}"))
    assert [m["text"] for m in dispatcher.messages] == [BSN_WARNING]
    dispatcher.messages.clear()
    for text in ("mijn nummer is 0612345678", "wat is een bsn?", "123456782", ""):
        bsn_notice(dispatcher, make_tracker(text=text))
    assert dispatcher.messages == []
