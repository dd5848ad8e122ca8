from twilio.request_validator import RequestValidator

from bot.channels.twilio_voordeur import (
    MAX_MESSAGE_CHARS,
    SeenMessages,
    VoordeurTwilioInput,
    flat_form,
)

URL = "https://chat.example.nl/webhooks/twilio/webhook"


def _channel() -> VoordeurTwilioInput:
    return VoordeurTwilioInput.from_credentials(  # type: ignore[return-value]
        {
            "account_sid": "ACtest",
            "auth_token": "secret",
            "twilio_number": "+3197000000001",
            "whatsapp_number": "whatsapp:+3197000000001",
            "send": "false",
        }
    )


def _form(**extra: str) -> dict[str, str]:
    return {"From": "+31612345678", "Body": "hallo", "MessageSid": "SM1", **extra}


def test_only_twilio_signed_requests_are_authentic() -> None:
    channel = _channel()
    form = _form()
    good = RequestValidator("secret").compute_signature(URL, form)
    assert channel.is_authentic(URL, form, good)
    assert not channel.is_authentic(URL, form, "forged")
    assert not channel.is_authentic(URL, form, "")
    assert not channel.is_authentic(URL, {**form, "Body": "changed"}, good)
    assert not channel.is_authentic(URL + "?x=1", form, good)


def test_sms_and_whatsapp_are_told_apart() -> None:
    channel = _channel()
    sms = channel.user_message(_form())
    whatsapp = channel.user_message(_form(From="whatsapp:+31612345678", MessageSid="SM2"))
    assert sms is not None and sms.metadata == {"channel": "sms"}
    assert whatsapp is not None and whatsapp.metadata == {"channel": "whatsapp"}
    assert sms.sender_id == "+31612345678" and sms.input_channel == "twilio"


def test_a_replayed_webhook_is_handled_once() -> None:
    channel = _channel()
    assert channel.user_message(_form()) is not None
    assert channel.user_message(_form()) is None
    assert channel.user_message(_form(MessageSid="SM9")) is not None


def test_very_long_and_empty_messages() -> None:
    channel = _channel()
    long = channel.user_message(_form(Body="a" * 10_000))
    assert long is not None and len(long.text) == MAX_MESSAGE_CHARS
    assert channel.user_message({"Body": "no sender"}) is None


def test_seen_messages_are_bounded() -> None:
    seen = SeenMessages(limit=2)
    assert all(seen.first_time(s) for s in ("a", "b", "c"))
    assert seen.first_time("a")  # forgotten: the oldest went first


def test_form_values_are_flattened_as_twilio_signs_them() -> None:
    assert flat_form({"Body": ["hoi", "x"], "From": []}) == {"Body": "hoi", "From": ""}


async def test_replies_go_from_the_matching_number_and_nothing_is_sent_when_off() -> None:
    output = _channel().get_output_channel()
    await output.send_text_message("whatsapp:+31612345678", "Hallo\n\nTweede deel")
    await output.send_text_message("+31612345678", "Per sms")
    assert [(m["from_"], m["body"]) for m in output.unsent] == [
        ("whatsapp:+3197000000001", "Hallo"),
        ("whatsapp:+3197000000001", "Tweede deel"),
        ("+3197000000001", "Per sms"),
    ]
