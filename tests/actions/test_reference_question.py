"""'wat is mijn kenmerk?' after a handover (issue 12): the classifier does not know it (it is
read as nlu_fallback), so a text rule (actions.replies.asks_reference) answers it wherever the
process questions are answered — when nothing is pending, at a pending question, in the form."""

import pytest

from actions.dialogue import ActionNotUnderstood, ActionReply
from actions.process_questions import NO_REFERENCE, reference_answer
from actions.replies import asks_reference
from tests.actions.conftest import make_tracker

MADE = [
    {
        "id": "h-1",
        "key": "k-1",
        "reference": "VD-7K3P-92",
        "service": "bijstand_intake",
        "crisis": None,
        "organisation_name": "Senzer",
    }
]


@pytest.mark.parametrize(
    "text",
    [
        "wat is mijn kenmerk?",
        "Wat is mijn kenmerk",
        "wat was het kenmerk ook alweer?",
        "welk kenmerk heb ik",
        "welk referentienummer kreeg ik?",
        "mijn referentienummer?",
        "kenmerk?",
        "ik ben mijn kenmerk kwijt",
    ],
)
def test_asks_reference(text: str) -> None:
    assert asks_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "wat is het kenmerk van de brief van de belastingdienst?",
        "ik heb een brief met kenmerk 2024-123 gekregen",
        "wanneer bellen ze?",
        "kan ik bijstand krijgen?",
        "ja",
    ],
)
def test_other_messages_are_not_a_reference_question(text: str) -> None:
    assert not asks_reference(text)


async def test_after_a_handover_the_reference_is_given(dispatcher) -> None:
    tracker = make_tracker(
        text="wat is mijn kenmerk?",
        intent="nlu_fallback",
        slots={"handover_reference": "VD-7K3P-92", "handovers_made": MADE},
    )
    events = await ActionNotUnderstood().run(dispatcher, tracker, {})
    assert [m["text"] for m in dispatcher.messages] == [
        "Uw kenmerk is VD-7K3P-92. Noem het als Senzer contact met u opneemt."
    ]
    assert events == []


async def test_without_a_handover_it_says_there_is_none(dispatcher) -> None:
    tracker = make_tracker(text="wat is mijn kenmerk?", intent="nlu_fallback")
    await ActionNotUnderstood().run(dispatcher, tracker, {})
    assert [m["text"] for m in dispatcher.messages] == [NO_REFERENCE]
    assert "geen" in NO_REFERENCE and "kenmerk" in NO_REFERENCE


async def test_at_a_pending_question_the_reference_is_given_and_the_question_asked_again(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="wat is mijn kenmerk?",
        intent="nlu_fallback",
        slots={
            "handover_reference": "VD-7K3P-92",
            "handovers_made": MADE,
            "awaiting_reply": True,
            "pending": "handover",
            "pending_question": "Wilt u dat een medewerker contact met u opneemt?",
            "pending_choices": [["Ja", "/affirm"], ["Nee", "/deny"]],
            "pending_retries": 0,
        },
    )
    await ActionReply().run(dispatcher, tracker, {})
    first, again = dispatcher.messages
    assert first["text"].startswith("Uw kenmerk is VD-7K3P-92.")
    assert again["text"] == "Wilt u dat een medewerker contact met u opneemt?"
    assert [b["payload"] for b in again["buttons"]] == ["/affirm", "/deny"]


def test_two_handovers_give_both_references() -> None:
    second = {**MADE[0], "reference": "VD-AC34-07", "organisation_name": "Schuldhulp Helmond"}
    tracker = make_tracker(slots={"handovers_made": [*MADE, second]})
    assert reference_answer(tracker) == (
        "U heeft in dit gesprek 2 vragen doorgegeven. Uw kenmerken zijn VD-7K3P-92 (Senzer) en "
        "VD-AC34-07 (Schuldhulp Helmond)."
    )


def test_the_reference_slot_alone_is_enough() -> None:
    tracker = make_tracker(slots={"handover_reference": "VD-7K3P-92"})
    assert reference_answer(tracker) == "Uw kenmerk is VD-7K3P-92."
