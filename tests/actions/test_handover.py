"""The warm handover form and its submission, against a fake handover API."""

import pytest
from rasa_sdk.events import SlotSet

from actions.handover import (
    ActionAskConsentGiven,
    ActionAskContactPhone,
    ActionStopHandover,
    ActionSubmitHandover,
    ValidateHandoverForm,
    current_consent,
)
from actions.outbox import Outbox
from actions.way_forward import LATER_HINT
from common.references import PATTERN as REFERENCE
from common.references import reference_from
from tests.actions.conftest import make_tracker


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


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


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("sms", {"response": "utter_choose_yes_no"}),  # "Typ 1 voor ja of 2 voor nee."
        ("whatsapp", {"response": "utter_choose_yes_no"}),
        ("web", {"text": "Kies alstublieft Ja of Nee."}),  # the web widget has buttons
    ],
)
async def test_unclear_consent_answer_is_asked_again(dispatcher, channel, expected) -> None:
    tracker = make_tracker(
        text="misschien",
        intent="inform",
        channel=channel,
        slots={"requested_slot": "consent_given"},
    )
    result = await ValidateHandoverForm().extract_consent_given(dispatcher, tracker, {})
    assert result == {"consent_given": None}
    (message,) = dispatcher.messages
    assert {k: v for k, v in message.items() if k in expected} == expected


async def test_yes_with_a_condition_is_consent_and_the_condition_is_passed_on(dispatcher) -> None:
    tracker = make_tracker(
        text="ja maar hij mag het niet weten",
        intent="nlu_fallback",
        slots={"requested_slot": "consent_given", "resident_notes": ["na 15 uur"]},
    )
    result = await ValidateHandoverForm().extract_consent_given(dispatcher, tracker, {})
    assert result == {
        "consent_given": True,
        "resident_notes": ["na 15 uur", "hij mag het niet weten"],
    }
    assert "hij mag het niet weten" in dispatcher.messages[0]["text"]


async def test_a_phone_number_at_the_consent_question_is_not_a_yes(dispatcher) -> None:
    tracker = make_tracker(
        text="0612345678", intent="inform", slots={"requested_slot": "consent_given"}
    )
    result = await ValidateHandoverForm().extract_consent_given(dispatcher, tracker, {})
    assert result == {"phone_offered": "0612345678"}  # no consent_given: asked again
    assert "toestemming" in dispatcher.messages[0]["text"]


async def test_offered_number_is_confirmed_at_the_phone_question(dispatcher) -> None:
    asked = make_tracker(slots={"phone_offered": "0612345678"}, channel="sms")
    await ActionAskContactPhone().run(dispatcher, asked, {})
    assert "Mag de medewerker u bereiken op 06 12345678?" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["text"].endswith("1. Ja\n2. Nee")
    form = ValidateHandoverForm()
    slots = {"requested_slot": "contact_phone", "phone_offered": "0612345678"}
    yes = make_tracker(text="ja", intent="affirm", slots=slots)
    assert await form.extract_contact_phone(dispatcher, yes, {}) == {"contact_phone": "0612345678"}
    other = make_tracker(text="06 87654321", intent="inform", slots=slots)
    assert await form.extract_contact_phone(dispatcher, other, {}) == {
        "contact_phone": "0687654321"
    }
    no = make_tracker(text="nee", intent="deny", slots=slots)
    assert await form.extract_contact_phone(dispatcher, no, {}) == {
        "phone_offered": None,
        "contact_phone": None,
    }


@pytest.mark.parametrize(
    ("slot", "text", "intent"),
    [
        ("contact_phone", "nee toch niet", "deny"),
        ("contact_phone", "laat maar", "inform"),
        ("gemeente_code", "nee toch niet", "deny"),
        ("safe_contact", "laat maar", "inform"),
    ],
)
async def test_stop_inside_the_form_cancels_and_is_never_a_value(
    dispatcher, slot, text, intent
) -> None:
    form = ValidateHandoverForm()
    tracker = make_tracker(text=text, intent=intent, slots={"requested_slot": slot})
    extract = getattr(form, f"extract_{slot}")
    assert await extract(dispatcher, tracker, {}) == {"handover_cancelled": True}
    cancelled = make_tracker(slots={"handover_cancelled": True})
    assert await form.required_slots([], dispatcher, cancelled, {}) == []


async def test_municipality_outside_the_regions_ends_the_form(dispatcher) -> None:
    tracker = make_tracker(text="ik woon in Amsterdam", slots={"requested_slot": "gemeente_code"})
    result = await ValidateHandoverForm().extract_gemeente_code(dispatcher, tracker, {})
    assert result == {
        "gemeente_code": None,
        "handover_cancelled": True,
        "buiten_regio": "Amsterdam",
    }
    assert "Amsterdam ligt niet in onze regio" in dispatcher.messages[0]["text"]
    assert "niets gedeeld" in dispatcher.messages[0]["text"]


async def test_a_question_from_outside_the_regions_remembers_the_place(dispatcher) -> None:
    """So that "ok en waar dan wel" afterwards is answered with their own municipality."""
    tracker = make_tracker(
        text="ik woon in Groningen, kan ik via jullie bijstand aanvragen?",
        intent="apply",
        entities=[{"entity": "gemeente", "value": "Groningen"}],
    )
    result = await ValidateHandoverForm().extract_gemeente_code(dispatcher, tracker, {})
    assert result == {"handover_cancelled": True, "buiten_regio": "Groningen"}


@pytest.mark.parametrize("text", ["nee ik bedoel castricum", "castricum zei ik toch"])
async def test_a_corrected_municipality_replaces_the_first(dispatcher, text) -> None:
    tracker = make_tracker(
        text=text,
        intent="deny",
        slots={"requested_slot": "consent_given", "gemeente_code": "GM0794"},
    )
    form = ValidateHandoverForm()
    assert await form.extract_gemeente_code(dispatcher, tracker, {}) == {"gemeente_code": "GM0383"}
    assert "Castricum" in dispatcher.messages[0]["text"]
    # and the correction is not read as "no" to the consent question
    assert await form.extract_consent_given(dispatcher, tracker, {}) == {}


@pytest.mark.parametrize(
    ("crisis", "asked"),
    [
        (None, False),
        ("huiselijk_geweld", True),  # never call unless the resident said when it is safe
        ("suicidaliteit", False),  # the phone question asks for a safe moment instead
        ("acute_dakloosheid", False),
    ],
)
async def test_safe_contact_is_a_question_of_its_own_for_violence(
    dispatcher, crisis, asked
) -> None:
    tracker = make_tracker(slots={"crisis_type": crisis})
    slots = await ValidateHandoverForm().required_slots([], dispatcher, tracker, {})
    assert [s for s in slots if s != "safe_contact"] == [
        "gemeente_code",
        "consent_given",
        "contact_phone",
    ]
    assert ("safe_contact" in slots) is asked
    if asked:  # never a phone number before the resident said when contact is safe
        assert slots.index("safe_contact") < slots.index("contact_phone")


async def test_other_crises_give_the_safe_moment_with_the_phone_number(dispatcher) -> None:
    slots = {"crisis_type": "suicidaliteit", "requested_slot": "contact_phone"}
    await ActionAskContactPhone().run(dispatcher, make_tracker(slots=slots), {})
    assert "veilig" in dispatcher.messages[0]["text"]
    answer = make_tracker(text="06 12345678, na 15 uur", slots=slots)
    assert await ValidateHandoverForm().extract_contact_phone(dispatcher, answer, {}) == {
        "contact_phone": "0612345678",
        "safe_contact": "na 15 uur",
    }


async def test_safe_contact_in_own_words_asked_once_more_when_unclear(dispatcher) -> None:
    form = ValidateHandoverForm()
    slots = {"requested_slot": "safe_contact", "crisis_type": "huiselijk_geweld"}
    ok = make_tracker(text="na 15 uur, dan is hij weg", slots=slots)
    assert await form.extract_safe_contact(dispatcher, ok, {}) == {
        "safe_contact": "na 15 uur, dan is hij weg"
    }
    unclear = make_tracker(text="weet ik niet", slots=slots)
    assert await form.extract_safe_contact(dispatcher, unclear, {}) == {
        "safe_contact": None,
        "safe_contact_retried": True,
    }
    assert "veilig" in dispatcher.messages[-1]["text"]
    # the second time the resident's words are taken as they are: never a third question
    again = make_tracker(text="weet ik niet", slots={**slots, "safe_contact_retried": True})
    assert await form.extract_safe_contact(dispatcher, again, {}) == {
        "safe_contact": "weet ik niet"
    }


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
    assert "Senzer" in text and "telefoonnummer" in text and "Mag ik dit delen?" in text
    assert "Senzer (Senzer)" not in text  # v2: the receiver is named once
    assert "zonder BSN" in text and "toestemming intrekken" in text
    assert text.endswith("1. Ja\n2. Nee")
    assert not dispatcher.messages[0].get("buttons")


async def test_consent_question_names_team_and_organisation_when_they_differ(dispatcher) -> None:
    tracker = make_tracker(slots={"gemeente_code": "GM0794", "service": "wmo"})
    await ActionAskConsentGiven().run(dispatcher, tracker, {})
    message = dispatcher.messages[0]
    assert "het wijkteam Helmond (Gemeente Helmond)" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


def test_current_consent_is_v2_and_published_versions_stay() -> None:
    version, template = current_consent()
    assert version == "toestemming-2026-12-v2"
    assert "{ontvanger}" in template


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
    assert dispatcher.messages[0]["ontvanger"] == "Senzer"
    assert dispatcher.messages[0]["telefoon"] == "06 12345678"
    # then: when to expect contact, what to have at hand, how to reach them sooner
    after = dispatcher.messages[1]["text"]
    assert "binnen 3 werkdagen" in after
    assert "Houd bij de hand: uw kenmerk, uw laatste loonstrook" in after
    assert "Eerder contact nodig?" in after and "0000" not in after
    slots = _slots(events)
    assert slots["handover_reference"] == body["reference"]
    assert slots["consent_given"] is None  # a next handover asks consent again
    assert slots["consent_version"] is None and slots["resident_notes"] is None
    assert slots["awaiting_reply"] is False and slots["pending"] is None
    assert slots["handover_destination"] == body["destination"]
    (made,) = slots["handovers_made"]
    assert made["id"] == fake_api.by_key[fake_api.requests[0]["headers"]["Idempotency-Key"]]["id"]
    assert made["reference"] == body["reference"]
    assert made["service"] == "bijstand_intake" and made["organisation_name"] == "Senzer"
    assert made["key"] == fake_api.requests[0]["headers"]["Idempotency-Key"]

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
    first = reference_from(f"test-conversation|{slots['consent_at']}")
    fake_api.conflict_references.add(first)
    await ActionSubmitHandover().run(dispatcher, make_tracker(slots=slots), {})
    created = next(iter(fake_api.by_key.values()))
    assert created["reference"] != first


async def test_without_consent_nothing_is_sent(fake_api, dispatcher) -> None:
    tracker = make_tracker(slots=_consented_slots(consent_given=False))
    events = await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert fake_api.requests == []
    (message,) = dispatcher.messages
    # no dead end: a way forward with verified details only (Senzer's phone is example data)
    assert message["text"].startswith("Dat is goed. Ik deel niets. Wilt u later toch hulp?")
    assert "www.senzer.nl" in message["text"] and LATER_HINT in message["text"]
    assert "0000" not in message["text"]
    assert "andere vraag" not in message["text"]
    assert SlotSet("consent_given", None) in events
    assert SlotSet("awaiting_reply", False) in events and SlotSet("pending", None) in events
    assert "handovers_made" not in _slots(events)


async def test_cancelled_form_sends_nothing_and_gives_a_way_forward(fake_api, dispatcher) -> None:
    tracker = make_tracker(slots=_consented_slots(handover_cancelled=True))
    events = await ActionSubmitHandover().run(dispatcher, tracker, {})
    assert fake_api.requests == []
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Goed, ik stop hiermee. Er is niets doorgegeven.")
    assert LATER_HINT in text
    slots = _slots(events)
    assert slots["handover_cancelled"] is None and slots["resident_notes"] is None


async def test_stop_gives_a_way_forward_and_forgets_the_half_asked(dispatcher) -> None:
    tracker = make_tracker(
        text="stop",
        intent="stop_form",
        slots={"gemeente_code": "GM0762", "service": "wmo", "safe_contact": "na 15 uur"},
    )
    events = await ActionStopHandover().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "Er is niets doorgegeven" in text and "0493 387 387" in text  # verified for Deurne
    assert "andere vraag" not in text
    slots = _slots(events)
    assert slots["safe_contact"] is None and slots["consent_given"] is None


async def test_conditions_and_safety_go_to_the_professional(fake_api, dispatcher) -> None:
    tracker = make_tracker(
        text="ik word thuis bedreigd",
        channel="sms",
        slots=_consented_slots(
            crisis_type="huiselijk_geweld",
            urgent_signal=True,
            safe_contact="alleen sms, niet bellen",
            resident_notes=["hij mag het niet weten"],
        ),
    )
    await ActionSubmitHandover().run(dispatcher, tracker, {})
    body = fake_api.requests[0]["body"]
    assert body["priority"] == "urgent"
    assert body["crisis"] == {"type": "huiselijk_geweld"}
    assert body["contact"]["preferred"] == "sms"  # "niet bellen": never phoned
    assert body["contact"]["best_time"] == "alleen sms, niet bellen"
    summary = body["summary"]
    assert summary.startswith("VEILIG CONTACT")
    assert "hij mag het niet weten" in summary
    after = dispatcher.messages[1]["text"]
    assert "voorrang" in after and "Houd bij de hand: uw kenmerk." in after


async def test_api_rejection_is_reported_honestly(fake_api, dispatcher) -> None:
    fake_api.fail_with = 422
    await ActionSubmitHandover().run(dispatcher, make_tracker(slots=_consented_slots()), {})
    assert dispatcher.messages[0]["response"] == "utter_handover_failed"
