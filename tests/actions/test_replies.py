"""Reading a resident's reply without Rasa: the sentences from the review of 2026-12-02."""

import pytest

from actions.replies import (
    Kind,
    Reply,
    age_of,
    asks_erasure,
    asks_to_apply,
    asks_withdrawal,
    forbids_calls,
    looks_english,
    read_reply,
    safe_contact,
    sounds_angry,
    who_is_meant,
)


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        # yes with a condition: the condition goes to the professional, it is not a fallback
        ("ja maar hij mag het niet weten", None, Reply(Kind.YES, "hij mag het niet weten")),
        (
            "ja maar hij mag het niet weten",
            "nlu_fallback",
            Reply(Kind.YES, "hij mag het niet weten"),
        ),
        ("ja, als het na 15 uur is", None, Reply(Kind.YES, "het na 15 uur is")),
        ("ja mits na 15 uur", None, Reply(Kind.YES, "na 15 uur")),
        # a correction is not a "no" (even when the NLU says deny)
        ("nee ik bedoel castricum", "deny", Reply(Kind.UNCLEAR, correction="castricum")),
        ("castricum zei ik toch", None, Reply(Kind.UNCLEAR, correction="castricum")),
        ("niet helmond maar castricum", None, Reply(Kind.UNCLEAR, correction="castricum")),
        # stop: no, and stop this flow altogether
        ("nee toch niet", "deny", Reply(Kind.STOP)),
        ("nee toch niet", None, Reply(Kind.STOP)),
        ("laat maar", None, Reply(Kind.STOP)),
        ("Laat maar!", "affirm", Reply(Kind.STOP)),
        ("nee, laat maar", None, Reply(Kind.STOP)),
        # numbered choices on SMS
        ("1", None, Reply(Kind.YES)),
        ("2", None, Reply(Kind.NO)),
        ("2", "affirm", Reply(Kind.NO)),  # the text wins over a misread intent
        # plain yes and no
        ("ja", None, Reply(Kind.YES)),
        ("Ja graag!", None, Reply(Kind.YES)),
        ("oké", None, Reply(Kind.YES)),
        ("nee", None, Reply(Kind.NO)),
        ("nee dank je wel", None, Reply(Kind.NO)),
        ("nee maar wel later", None, Reply(Kind.NO, "wel later")),
        # the intent decides only when the text itself says nothing clear
        ("zeker weten joh", "affirm", Reply(Kind.YES)),
        ("ik denk het niet", "deny", Reply(Kind.NO)),
        ("misschien", "inform", Reply(Kind.UNCLEAR)),
        ("weet ik niet", None, Reply(Kind.UNCLEAR)),
    ],
)
def test_read_reply(text: str, intent: str | None, expected: Reply) -> None:
    assert read_reply(text, intent) == expected


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("nee het gaat om mij", "deny", "self"),  # "nee" here means: not someone else
        ("nee het gaat om mij", None, "self"),
        ("om mij", None, "self"),
        ("ja het gaat om mij", None, "self"),
        ("allebei", None, "self"),  # the resident is at risk too
        ("ja", "affirm", "self"),  # "Gaat het om uzelf?" - "ja"
        ("het gaat om mijn moeder", None, "other"),
        ("om mijn moeder", None, "other"),
        ("niet om mij maar om mijn zus", None, "other"),
        ("Om iemand anders", None, "other"),
        ("nee", "deny", "other"),
        ("weet ik niet", None, None),
    ],
)
def test_who_is_meant(text: str, intent: str | None, expected: str | None) -> None:
    assert who_is_meant(text, intent) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("na 15 uur", "na 15 uur"),
        ("Alleen sms", "Alleen sms"),
        ("bel niet, ik bel zelf", "bel niet, ik bel zelf"),
        ("als hij weg is", "als hij weg is"),
        ("overdag op mijn werk", "overdag op mijn werk"),
        ("weet ik niet", None),
        ("geen idee", None),
        ("ja", None),
    ],
)
def test_safe_contact_keeps_own_words_or_asks_again(text: str, expected: str | None) -> None:
    assert safe_contact(text) == expected


def test_safe_contact_is_kept_short() -> None:
    said = safe_contact("na 15 uur " + "x" * 500)
    assert said is not None and len(said) == 300


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("niet bellen", True),
        ("bel me niet", True),
        ("alleen sms", True),
        ("liever whatsapp", True),
        ("Geen telefoon, hij kijkt mee", True),
        ("na 15 uur", False),
        ("bellen mag na 15 uur", False),
        ("u mag altijd bellen", False),
    ],
)
def test_forbids_calls(text: str, forbidden: bool) -> None:
    assert forbids_calls(text) is forbidden


@pytest.mark.parametrize(
    "text",
    [
        "ik wil mijn toestemming intrekken",
        "trek mijn toestemming in",
        "Toestemming intrekken",
        "kan ik mijn toestemming terugnemen?",
        "I want to withdraw my consent",
    ],
)
def test_asks_withdrawal(text: str) -> None:
    assert asks_withdrawal(text)
    assert not asks_erasure(text)


@pytest.mark.parametrize(
    "text",
    [
        "verwijder mijn gegevens",
        "Kunt u mijn gesprek verwijderen?",
        "ik wil dat jullie mijn gegevens verwijderen",
        "kan ik mijn gegevens laten wissen",
        "recht op vergetelheid",
        "delete my data",
    ],
)
def test_asks_erasure(text: str) -> None:
    assert asks_erasure(text)
    assert not asks_withdrawal(text)


@pytest.mark.parametrize(
    "text",
    [
        "ik wil mijn adres wijzigen",
        "mijn gegevens wijzigen",
        "ik wil mijn gegevens inzien",
        "ik wil stoppen",
        "ik wil mijn uitkering stoppen",
        "ik heb toestemming nodig van mijn werkgever",
        "ik wil alles weten over bijstand",
        "hoe vraag ik bijstand aan",
    ],
)
def test_neither_withdrawal_nor_erasure(text: str) -> None:
    assert not asks_withdrawal(text)
    assert not asks_erasure(text)


@pytest.mark.parametrize(
    "text",
    [
        "Dit is belachelijk, al weken niks gehoord",
        "IK WACHT AL DRIE WEKEN OP ANTWOORD",  # shouting
        "WAAROM HELPT NIEMAND MIJ",
        "waarom duurt het zo lang!!!",
        "Ik ben boos",
        "jullie zijn waardeloos",
    ],
)
def test_sounds_angry(text: str) -> None:
    assert sounds_angry(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hoe lang duurt een aanvraag voor bijstand?",
        "Waarom duurt het zo lang?",
        "wat is de WMO?",
        "Hoe vraag ik BIJZONDERE BIJSTAND aan?",  # capitals in a calm question
        "OK",
        "HELP MIJ",  # short: too few letters to call it shouting
    ],
)
def test_calm_messages_are_not_angry(text: str) -> None:
    assert not sounds_angry(text)


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Hello, I need help with my rent", True),
        ("Can you help me please", True),
        ("do you speak english?", True),
        ("English please", True),
        ("ik heb geen geld voor de huur", False),
        ("Hoi, is er hulp voor mij?", False),
        ("Hallo ik heb hulp nodig met my rent", False),  # mostly Dutch
        ("ok", False),
        ("hi", False),
        ("help", False),
    ],
)
def test_looks_english(text: str, english: bool) -> None:
    assert looks_english(text) is english


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("ik ben 17", 17),
        ("Ik ben 17 jaar en wil bijstand", 17),
        ("ik ben zeventien", 17),
        ("17 jaar oud", 17),
        ("I am 16 years old", 16),
        ("ik ben 45", 45),
        ("ik heb 3 kinderen van 17 jaar", None),  # the children's age
        ("ik woon hier 17 jaar", None),  # how long, not how old
        ("mijn zoon is 17", None),
        ("ik ben 17 weken zwanger", None),
        ("ik ben 20 uur per week aan het werk", None),
        ("ik ben 3 maanden achter met de huur", None),
        ("ik ben 9", None),  # out of range: not a resident's own age
    ],
)
def test_age_of(text: str, age: int | None) -> None:
    assert age_of(text) == age


# --- bugs found by these tests on 2026-12-02, fixed the same day ---------------------------


@pytest.mark.parametrize("text", ["'s avonds", "'s morgens", "'s middags"])
def test_times_of_day_with_apostrophe_are_safe_contact(text: str) -> None:
    assert safe_contact(text) == text


@pytest.mark.parametrize("text", ["Dank u wel!!!", "Bedankt!!!"])
def test_enthusiastic_thanks_is_not_anger(text: str) -> None:
    assert not sounds_angry(text)


@pytest.mark.parametrize(
    "text",
    ["haal me hier weg, ik ben alles kwijt", "ik haal mijn kinderen op en dan is alles op"],
)
def test_distress_is_not_an_erasure_request(text: str) -> None:
    assert not asks_erasure(text)


def test_no_thank_you_with_a_comma_is_no() -> None:
    assert read_reply("nee, dank je wel") == Reply(Kind.NO)


@pytest.mark.parametrize(
    ("text", "applies"),
    [
        ("Goedemorgen, ik woon in Bakkum en wil bijstand aanvragen. Mijn contract stopt.", True),
        ("goedendag ik wil bijstand aanvragen want mijn ww stopt", True),
        ("hoe moet ik bijstand aanvragen", False),
        ("kan ik bijstand aanvragen?", False),
        ("mijn buurman wil niet dat ik hulp vraag", False),
    ],
)
def test_a_request_to_apply_is_told_from_a_question_about_applying(text, applies) -> None:
    assert asks_to_apply(text) is applies
