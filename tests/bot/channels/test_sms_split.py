"""Long answers cut into SMS/WhatsApp messages: at sentences, within Twilio's limits, intact."""

import re

import pytest
import regex

from bot.channels.sms_split import (
    SMS_MAX_CHARS,
    WHATSAPP_MAX_CHARS,
    gsm7_septets,
    sms_segments,
    split_message,
    utf16_units,
)


def _rejoined(parts: list[str]) -> str:
    """The parts joined again, whitespace ignored: the text must come back unchanged."""
    return re.sub(r"\s+", "", "".join(parts))


def _two_segments(part: str) -> bool:
    septets = gsm7_septets(part)
    return septets <= 306 if septets is not None else utf16_units(part) <= 134


def _graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", re.sub(r"\s+", "", text))


def test_short_texts_stay_one_message() -> None:
    assert split_message("Hallo") == ["Hallo"]
    assert split_message("  Hallo\n\nTweede deel \n") == ["Hallo\n\nTweede deel"]
    assert split_message("") == split_message(" \n ") == []
    assert split_message("x" * 1600, "whatsapp") == ["x" * 1600]


def test_segments_are_counted_as_twilio_bills_them() -> None:
    assert sms_segments("a" * 160) == 1 and sms_segments("a" * 161) == 2
    assert sms_segments("€" * 80) == 1 and sms_segments("€" * 81) == 2  # extension: 2 septets
    assert sms_segments("ë" * 70) == 1 and sms_segments("ë" * 71) == 2  # UCS-2
    assert sms_segments("😀" * 35) == 1 and sms_segments("😀" * 36) == 2  # a surrogate pair each


def test_long_dutch_text_is_cut_at_sentence_boundaries() -> None:
    sentences = [
        "U kunt bijzondere bijstand aanvragen als u onverwachte kosten heeft.",
        "Bijvoorbeeld voor een nieuwe wasmachine of de eigen bijdrage van de rechtsbijstand.",
        "Het Sociaal Loket helpt u met de aanvraag, o.a. met het invullen van het formulier.",
        "Neem uw laatste bankafschriften mee en een kopie van uw huurcontract.",
        "Bel 14 0492 op werkdagen tussen 9 en 17 uur voor een afspraak.",
        "Liever langskomen? Dat kan zonder afspraak op dinsdagochtend in het Stadhuis.",
    ]
    text = " ".join(sentences)
    parts = split_message(text)
    assert len(parts) == 2
    assert all(_two_segments(part) for part in parts)
    assert all(part.endswith((".", "?")) for part in parts)  # never mid-sentence
    assert "o.a. met" in "".join(parts)  # an abbreviation is not a sentence end
    assert " ".join(parts) == text


def test_paragraphs_are_preferred_over_sentences_as_cut() -> None:
    first = "Eerste alinea met een zin. " * 5
    second = "Tweede alinea, iets langer dan de eerste. " * 5
    parts = split_message(f"{first.strip()}\n\n{second.strip()}")
    assert parts == [first.strip(), second.strip()]


def test_numbered_choices_stay_together_with_their_question() -> None:
    intro = "Ik heb uw vraag doorgestuurd. Er zijn een paar mogelijkheden. " * 3
    options = "\n".join(
        f"{i}. Mogelijkheid {i}: een afspraak met het wijkteam" for i in range(1, 6)
    )
    text = f"{intro.strip()}\nWat wilt u doen?\n{options}"
    parts = split_message(text)
    assert parts[-1].startswith("Wat wilt u doen?\n1. Mogelijkheid 1")
    assert parts[-1].endswith("5. Mogelijkheid 5: een afspraak met het wijkteam")
    assert _rejoined(parts) == _rejoined([text])


def test_a_list_longer_than_two_segments_is_still_one_message() -> None:
    options = "\n".join(
        f"{i}. Optie {i} met een uitleg van wat langere tekst" for i in range(1, 11)
    )
    text = f"Kies een nummer:\n{options}"
    assert sms_segments(text) > 2
    assert split_message(text) == [text]  # within Twilio's 1600 characters: kept whole


def test_a_list_longer_than_one_message_is_cut_between_options() -> None:
    options = [f"{i}. " + "Een heel lange optie met veel woorden erin. " * 3 for i in range(1, 21)]
    text = "Kies een nummer:\n" + "\n".join(option.strip() for option in options)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(part) <= SMS_MAX_CHARS for part in parts)
    for part in parts:  # every part starts with an option (or the question) and ends one
        assert re.match(r"^(Kies een nummer:|\d+\. )", part)
        assert part.endswith("erin.")
    assert _rejoined(parts) == _rejoined([text])


@pytest.mark.parametrize(
    "text",
    [
        # Arabic, with its own question mark
        "مرحبا بك في خدمة البلدية. هل تحتاج إلى مساعدة في السكن؟ " * 8,
        # Chinese, with full-width sentence ends and no spaces
        "您好，这里是市政府的社会服务窗口。请问您需要什么帮助？我们可以帮您联系社区团队。" * 6,
        # Dutch with emoji: skin tones, a family (ZWJ sequence), a flag
        "Goed zo 👍🏽 we helpen u graag! 👨‍👩‍👧 Tot morgen 🇳🇱. " * 12,
    ],
)
def test_non_latin_text_and_emoji_stay_intact(text: str) -> None:
    parts = split_message(text)
    assert len(parts) > 1
    assert all(_two_segments(part) for part in parts)
    assert _rejoined(parts) == _rejoined([text])
    # no grapheme (emoji sequence, surrogate pair) torn across two parts
    assert [g for part in parts for g in _graphemes(part)] == _graphemes(text)
    for part in parts:
        part.encode("utf-8")  # no lone surrogate anywhere


def test_a_text_without_any_boundary_is_cut_between_graphemes() -> None:
    family = "👨‍👩‍👧‍👦"
    text = family * 400  # 4400 UTF-16 units, no spaces, no sentence end
    parts = split_message(text)
    assert all(utf16_units(part) <= 134 for part in parts)
    assert all(set(regex.findall(r"\X", part)) == {family} for part in parts)
    assert "".join(parts) == text


def test_a_single_long_sentence_is_kept_whole_up_to_twilios_limit() -> None:
    sentence = "Dit is een zin " + "met nog meer woorden " * 30 + "zonder einde."
    assert 306 < len(sentence) <= SMS_MAX_CHARS
    assert split_message(sentence) == [sentence]
    huge = "woord " * 400  # 2400 characters: cut between words
    parts = split_message(huge)
    assert all(_two_segments(part) for part in parts)
    assert all(not part.startswith(" ") and part.split() for part in parts)
    assert " ".join(parts).split() == huge.split()


def test_whatsapp_is_cut_only_beyond_the_limit() -> None:
    text = "Een zin die best lang is. " * 60  # 1560 characters
    assert split_message(text, "whatsapp") == [text.strip()]
    longer = "Een zin die best lang is. " * 100
    parts = split_message(longer, "whatsapp")
    assert len(parts) == 2 and all(len(part) <= WHATSAPP_MAX_CHARS for part in parts)
    assert " ".join(parts) == longer.strip()
