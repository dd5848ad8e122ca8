"""The warm handover form and its submission, against a fake handover API."""

import re

import pytest
from rasa_sdk.events import SlotSet

from actions.handover import (
    ActionAskConsentGiven,
    ActionSubmitHandover,
    ValidateHandoverForm,
    current_consent,
    make_reference,
)
from actions.outbox import Outbox
from tests.actions.conftest import make_tracker

REFERENCE = re.compile(r"^VD-[A-HJ-NP-Z2-9]{4}-\d{2}$")


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_reference_is_short_readable_and_stable() -> None:
    assert REFERENCE.match(make_reference("abc"))
    assert make_reference("abc") == make_reference("abc")
    assert make_reference("abc") != make_reference("abc", attempt=1)


async def test_municipality_from_free_text_when_asked(dispatcher) -> None:
    form = ValidateHandoverForm()
    tracker = make_tracker(text="ik woon in Mierlo", slots={"requested_slot": "gemeente_code"})
    assert await form.extract_gemeente_code(dispatcher, tracker, {}) == {"gemeente_code": "GM1771"}
    assert await form.validate_gemeente_code("GM1771", dispatcher, tracker, {}) == {
        "gemeente_code": "GM1771",
        "gemeente": "Geldrop-Mierlo",
    }


async def test_unknown_place_gets_a_clear_question_again(dispatcher) -> None:
    form = ValidateHandoverForm()
    tracker = make_tracker(text="Timboektoe", slots={"requested_slot": "gemeente_code"})
    assert await form.extract_gemeente_code(dispatcher, tracker, {}) == {"gemeente_code": None}
    assert dispatcher.messages[0]["response"] == "utter_gemeente_unknown"


async def test_a_question_during_the_form_is_left_to_the_rules(dispatcher) -> None:
    form = ValidateHandoverForm()
    tracker = make_tracker(
        text="wat is bijzondere bijstand?",
        intent="ask_bijzondere_bijstand",
        slots={"requested_slot": "gemeente_code"},
    )
    assert await form.extract_gemeente_code(dispatcher, tracker, {}) == {}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("text", "intent", "given"),
    [
        ("1", "affirm", True),
        ("ja hoor", "affirm", True),
        ("2", "deny", False),
        ("nee", "deny", False),
        ("2", "affirm", False),
    ],
)
async def test_consent_reads_numbered_and_spoken_answers(dispatcher, text, intent, given) -> None:
    tracker = make_tracker(text=text, intent=intent, slots={"requested_slot": "consent_given"})
    form = ValidateHandoverForm()
    extracted = await form.extract_consent_given(dispatcher, tracker, {})
    assert extracted == {"consent_given": given}
    result = await form.validate_consent_given(given, dispatcher, tracker, {})
    assert result["consent_given"] is given
    if given:
        assert result["consent_version"] == current_consent()[0]
        assert result["consent_at"].endswith("+00:00")


async def test_unclear_consent_answer_is_asked_again(dispatcher) -> None:
    tracker = make_tracker(
        text="misschien", intent="inform", slots={"requested_slot": "consent_given"}
    )
    result = await ValidateHandoverForm().extract_consent_given(dispatcher, tracker, {})
    assert result == {"consent_given": None}
    assert dispatcher.messages[0]["response"] == "utter_choose_yes_no"


async def test_no_consent_means_no_more_questions(dispatcher) -> None:
    tracker = make_tracker(slots={"consent_given": False})
    slots = await ValidateHandoverForm().required_slots(
        ["gemeente_code", "consent_given", "contact_phone"], dispatcher, tracker, {}
    )
    assert slots == ["gemeente_code", "consent_given"]


async def test_phone_number_validated(dispatcher) -> None:
    form = ValidateHandoverForm()
    ok = make_tracker(text="06-1234 5678", slots={"requested_slot": "contact_phone"})
    assert await form.extract_contact_phone(dispatcher, ok, {}) == {"contact_phone": "0612345678"}
    bad = make_tracker(text="123", slots={"requested_slot": "contact_phone"})
    assert await form.extract_contact_phone(dispatcher, bad, {}) == {"contact_phone": None}
    assert dispatcher.messages[-1]["response"] == "utter_phone_invalid"


async def test_consent_question_names_who_receives_what(dispatcher) -> None:
    tracker = make_tracker(
        slots={"gemeente_code": "GM0794", "service": "bijstand_intake"}, channel="sms"
    )
    await ActionAskConsentGiven().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "Peel 6.1" in text and "telefoonnummer" in text and "Mag ik dit delen?" in text
    assert text.endswith("1. Ja\n2. Nee")
    assert dispatcher.messages[0]["buttons"] == []


def _consented_slots(**extra):
    return {
        "gemeente_code": "GM0794",
        "gemeente": "Helmond",
        "service": "bijstand_intake",
        "consent_given": True,
        "consent_at": "2026-11-26T22:58:00+00:00",
        "consent_version": current_consent()[0],
        "contact_phone": "0612345678",
        **extra,
    }


async def test_submit_creates_one_handover_with_consent_and_transcript(fake_api, dispatcher):
    tracker = make_tracker(text="ik heb geen inkomen meer", slots=_consented_slots())
    events = await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert len(fake_api.by_key) == 1
    body = fake_api.requests[0]["body"]
    assert body["consent"] == {
        "given": True,
        "at": "2026-11-26T22:58:00+00:00",
        "text_version": current_consent()[0],
    }
    assert body["municipality"] == {"code": "GM0794", "name": "Helmond"}
    assert body["destination"]["level"] == "regional"
    assert body["destination"]["organisation"] == "peel61"
    assert body["destination"]["reason"]
    assert body["channel"] == "web" and body["priority"] == "normal"
    assert body["transcript"][0]["text"] == "ik heb geen inkomen meer"
    assert REFERENCE.match(body["reference"])
    assert dispatcher.messages[0]["response"] == "utter_handover_done"
    assert dispatcher.messages[0]["reference"] == body["reference"]
    slots = _slots(events)
    assert slots["handover_reference"] == body["reference"]
    assert slots["consent_given"] is None  # a next handover asks consent again

    # the conversation id is opaque: not the sender id (a phone number on SMS)
    assert body["conversation_id"].startswith("c-")
    assert tracker.sender_id not in body["conversation_id"]
    assert slots["conversation_ref"] == body["conversation_id"]

    # the same submission again (e.g. a retried action call) creates nothing new
    await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert len(fake_api.by_key) == 1
    assert fake_api.requests[-1]["body"] == body


async def test_submit_sends_the_session_id_not_the_phone_number(fake_api, dispatcher):
    tracker = make_tracker(
        text="ik heb geen inkomen meer",
        sender_id="whatsapp:+31612345678",
        channel="whatsapp",
        slots=_consented_slots(conversation_ref="c-0123456789abcdef0123456789abcdef"),
    )
    await ActionSubmitHandover().run(dispatcher, tracker, {})
    body = fake_api.requests[0]["body"]
    assert body["conversation_id"] == "c-0123456789abcdef0123456789abcdef"
    assert "31612345678" not in str({k: v for k, v in body.items() if k != "contact"})


async def test_api_down_queues_and_still_gives_a_reference(monkeypatch, tmp_path, dispatcher):
    monkeypatch.setenv("HANDOVER_API_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("VOORDEUR_OUTBOX", str(tmp_path / "outbox.sqlite3"))
    monkeypatch.setenv("VOORDEUR_RETRY_SECONDS", "3600")
    tracker = make_tracker(text="hallo", slots=_consented_slots())
    events = await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["response"] == "utter_handover_queued"
    queued = Outbox(tmp_path / "outbox.sqlite3").due()
    assert len(queued) == 1
    assert queued[0].payload["reference"] == _slots(events)["handover_reference"]


async def test_reference_collision_picks_another(fake_api, dispatcher) -> None:
    slots = _consented_slots()
    first = make_reference(f"test-conversation|{slots['consent_at']}")
    fake_api.conflict_references.add(first)
    await ActionSubmitHandover().run(dispatcher, make_tracker(slots=slots), {})
    created = next(iter(fake_api.by_key.values()))
    assert created["reference"] != first


async def test_without_consent_nothing_is_sent(fake_api, dispatcher) -> None:
    tracker = make_tracker(slots=_consented_slots(consent_given=False))
    events = await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert fake_api.requests == []
    assert dispatcher.messages[0]["response"] == "utter_consent_denied"
    assert SlotSet("handover_offered", False) in events


async def test_api_rejection_is_reported_honestly(fake_api, dispatcher) -> None:
    fake_api.fail_with = 422
    await ActionSubmitHandover().run(dispatcher, make_tracker(slots=_consented_slots()), {})
    assert dispatcher.messages[0]["response"] == "utter_handover_failed"
