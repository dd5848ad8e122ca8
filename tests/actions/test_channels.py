from actions.channels import YES_NO, channel_of, choice_message
from tests.actions.conftest import make_tracker


def test_sms_gets_numbered_choices_and_no_buttons() -> None:
    msg = choice_message("Mag ik dit delen?", YES_NO, "sms")
    assert msg == {"text": "Mag ik dit delen?\n1. Ja\n2. Nee"}


def test_web_gets_buttons_with_intent_payloads() -> None:
    msg = choice_message("Mag ik dit delen?", YES_NO, "web")
    assert msg["buttons"] == [
        {"title": "Ja", "payload": "/affirm"},
        {"title": "Nee", "payload": "/deny"},
    ]


def test_channel_comes_from_metadata_then_from_the_input_channel() -> None:
    assert channel_of(make_tracker(channel="whatsapp")) == "whatsapp"
    assert channel_of(make_tracker(channel=None)) == "rest"
    assert channel_of(make_tracker(channel="made-up")) == "rest"
