"""What a resident's reply means, in the context of the question we just asked.

Residents rarely answer with a clean "ja" or "nee": they write "ja maar hij mag het niet weten",
"nee ik bedoel castricum", "castricum zei ik toch", "nee het gaat om mij", "laat maar". The NLU
intent alone misreads those (a condition becomes a fallback, a correction becomes a "no"), so
this module reads the text itself first and only then trusts the intent. It knows nothing of
Rasa: functions take the text and the intent name and return plain values, so they are easy
to test with the sentences from the review of 2026-12-02.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    YES = "yes"
    NO = "no"
    STOP = "stop"  # no, and stop this flow altogether
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Reply:
    kind: Kind
    condition: str | None = None  # "ja maar <condition>" / "ja, als <condition>"
    correction: str | None = None  # "nee ik bedoel <correction>" / "<correction> zei ik toch"


def _clean(text: str) -> str:
    text = text.strip().lower()
    text = re.sub(r"[!?.…]+$", "", text)
    return re.sub(r"\s+", " ", text)


_YES_WORDS = (
    r"ja+|jah|jawel|jep|jup|yes|yep|ok(?:e|ee|é|ay)?|oké|okido|prima|goed|graag|is goed|"
    r"doe maar|ja graag|ja hoor|ja please|zeker|natuurlijk|klopt|akkoord|top|lijkt me goed|"
    r"dat wil ik|dat is goed|mag|dat mag|1|/affirm"
)
_NO_WORDS = (
    r"nee+|neen|nope|no|nah|liever niet|niet nodig|hoeft niet|nee hoor|nee dank(?:je| je| u)?"
    r"(?: wel)?|nee bedankt|nee dankje|dank(?:je| je| u)(?: wel)?|niet doen|2|/deny"
)
_STOP_WORDS = (
    r"stop|stoppen|ik wil stoppen|laat maar|laat ook maar|nee toch niet|toch niet|"
    r"laat maar zitten|vergeet het|ik stop|hou maar op|niet meer nodig|annuleer|annuleren"
)
_YES = re.compile(rf"^(?:{_YES_WORDS})(?:[ ,]+(?:{_YES_WORDS}))*$")
_NO = re.compile(rf"^(?:{_NO_WORDS})(?:[ ,]+(?:{_NO_WORDS}))*$")
_STOP = re.compile(rf"^(?:(?:nee|ach|oh|o|eh)[ ,]+)?(?:{_STOP_WORDS})(?:[ ,]+(?:hoor|maar|dan))*$")
_YES_BUT = re.compile(
    rf"^(?:{_YES_WORDS})[ ,]+(?:maar|als|alleen als|mits|wel maar|behalve)[ ,]+(?P<rest>.+)$"
)
_YES_FIRST = re.compile(r"^(?:ja+|jawel|yes|ok(?:e|é)?|oké|prima|graag|goed|zeker|klopt)[ ,!]+\w")
_NO_FIRST = re.compile(
    r"^(?:nee+|neen|no|nope|liever niet|hoeft niet|niet nodig|laat maar)[ ,!]+\w"
)
_NO_BUT = re.compile(rf"^(?:{_NO_WORDS})[ ,]+(?:maar)[ ,]+(?P<rest>.+)$")
_CORRECTION = re.compile(
    r"^(?:nee+[ ,]+|sorry[ ,]+|oeps[ ,]+)*(?:ik bedoel(?:de)?|bedoel(?:de)?|moet zijn|"
    r"het is|het moet|ik zei)[ ,:]+(?P<rest>.+)$"
)
_CORRECTION_AFTER = re.compile(
    r"^(?P<rest>.+?)[ ,]+(?:zei ik toch|zei ik al|had ik al gezegd|heb ik al gezegd|"
    r"zeg ik toch|bedoel ik)$"
)
_NOT_BUT = re.compile(r"^(?:nee[ ,]+)?niet (?P<wrong>.+?)[ ,]+maar (?P<rest>.+)$")


def read_reply(text: str, intent: str | None = None) -> Reply:
    """Yes / no / stop / unclear, with a condition or correction if the resident added one."""
    clean = _clean(text)
    for pattern in (_CORRECTION, _CORRECTION_AFTER, _NOT_BUT):
        match = pattern.match(clean)
        if match:
            return Reply(Kind.UNCLEAR, correction=match.group("rest").strip(" ,"))
    match = _YES_BUT.match(clean)
    if match:
        return Reply(Kind.YES, condition=match.group("rest").strip(" ,"))
    if _STOP.match(clean):
        return Reply(Kind.STOP)
    match = _NO_BUT.match(clean)
    if match:
        return Reply(Kind.NO, condition=match.group("rest").strip(" ,"))
    if _YES.match(clean):
        return Reply(Kind.YES)
    if _NO.match(clean):
        return Reply(Kind.NO)
    # "ja het gaat om mezelf", "nee ik bel liever zelf": the first word answers the question.
    if _YES_FIRST.match(clean):
        return Reply(Kind.YES)
    if _NO_FIRST.match(clean):
        return Reply(Kind.NO)
    if intent == "affirm":
        return Reply(Kind.YES)
    if intent == "deny":
        return Reply(Kind.NO)
    if intent == "stop_form":
        return Reply(Kind.STOP)
    return Reply(Kind.UNCLEAR)


# --- who is at risk: the resident or someone else -------------------------------------------

_SELF = re.compile(
    r"\b(?:(?:het )?gaat (?:het )?(?:om|over) mij(?:zelf)?|om mij(?:zelf)?|over mij(?:zelf)?|"
    r"ik(?:zelf)? ben het|ikzelf|mezelf|mijzelf|het is voor mij|voor mij(?:zelf)?|"
    r"ik ben degene|dat ben ik|ik zelf|ja ik|ik dus)\b"
)
_OTHER = re.compile(
    r"\b(?:iemand anders|niet (?:om|over|voor) mij|een ander|om (?:mijn|mn|m'n) \w+|"
    r"(?:om|over|voor) (?:hem|haar|die persoon|diegene)|"
    r"over (?:mijn|mn|m'n) \w+|voor (?:mijn|mn|m'n) \w+|(?:mijn|mn|m'n) "
    r"(?:moeder|vader|zoon|dochter|vriend|vriendin|broer|zus|buurman|buurvrouw|partner|man|"
    r"vrouw|kind|oma|opa|collega)\b)"
)


def who_is_meant(text: str, intent: str | None = None) -> str | None:
    """'self', 'other' or None, for "Gaat het om uzelf?" (yes = self, no = someone else)."""
    clean = _clean(text)
    if re.search(r"\b(?:allebei|beide|ook om mij|ook over mij|wij allebei)\b", clean):
        return "self"  # the resident is at risk too: treat as self
    if _SELF.search(clean) and not re.search(r"\bniet (?:om|over|voor) mij", clean):
        return "self"
    if _OTHER.search(clean):
        return "other"
    reply = read_reply(text, intent)
    if reply.kind is Kind.YES:
        return "self"
    if reply.kind is Kind.NO:
        return "other"
    return None


_OWN_QUESTION = re.compile(
    r"\b(?:krijg|heb|kan|mag|moet) ik\b[^?]*\b(?:krijgen|aanvragen|recht|bijstand|uitkering|"
    r"geld|hulp|toeslag)\b|\b(?:krijg|heb) ik\b"
)


def names_someone_else(text: str) -> bool:
    """The words name another person as the one it is about ("voor mijn zus", "om hem")."""
    return bool(_OTHER.search(_clean(text)))


_APPLY = re.compile(
    r"\b(?:wil|willen|zou graag|ik moet)\b[^.?!]*\b(?:aanvragen|aan ?vragen|aanmelden)\b"
)


def asks_to_apply(text: str) -> bool:
    """ "ik wil bijstand aanvragen, mijn ww stopt": a request to apply, not a question about it."""
    return bool(_APPLY.search(_clean(text))) and not is_question(text)


def asks_for_oneself(text: str) -> bool:
    """A question about the resident's own rights ("krijg ik nou bijstand of niet?"): whoever
    asks it is talking about themself."""
    return bool(_OWN_QUESTION.search(_clean(text)))


# --- when and how contact is safe --------------------------------------------------------------

_NO_CALL = re.compile(
    r"\b(?:niet bellen|bel (?:me |mij )?niet|geen telefoon|nooit bellen|niet gebeld|"
    r"alleen (?:sms|sms'en|smsen|appen|whatsapp|mail|e-mail|chat)|liever (?:sms|appen|whatsapp))"
)
_SAFE_HINT = re.compile(
    r"\b(?:na|voor|tussen|vanaf|rond|om) \d{1,2}(?:[.:]\d{2})?(?: uur)?\b|"
    r"\b\d{1,2}(?:[.:]\d{2})? uur\b|"
    r"(?:^|\s)'?s (?:morgens|ochtends|middags|avonds)\b|"
    r"\b(?:ochtend|middag|avond|overdag|maandag|dinsdag|"
    r"woensdag|donderdag|vrijdag|zaterdag|zondag|doordeweeks|werk|school|thuis|alleen|"
    r"niet thuis|weg is|de deur uit|sms|app|whatsapp|mail|bellen|bel|altijd|nu)\b"
)


def safe_contact(text: str) -> str | None:
    """The resident's own words about when/how contact is safe, if the text says something
    about a time, place or way of contact; None when it does not (ask again)."""
    clean = _clean(text)
    if _NO_CALL.search(clean) or _SAFE_HINT.search(clean):
        return text.strip()[:300]
    return None


def forbids_calls(text: str) -> bool:
    """'niet bellen', 'alleen sms': the professional must not phone."""
    return bool(_NO_CALL.search(_clean(text)))


# --- privacy in the chat ------------------------------------------------------------------------

_WITHDRAW = re.compile(
    r"\b(?:toestemming\w*|akkoord|instemming)\b.*\b(?:intrekken|in te trekken|terugtrekken|"
    r"terug ?nemen|trek\w* in|stoppen|weer weg|ongedaan)\b|"
    r"\b(?:trek|intrekken)\b.*\btoestemming\b|"
    r"\b(?:withdraw|revoke)\b.*\bconsent\b"
)
_ERASE = re.compile(
    r"\b(?:verwijder\w*|wis|wissen|delete|vernietig\w*)\b.*\b(?:gegevens|data|"
    r"info\w*|chat\w*|gesprek\w*|dossier|alles|berichten)\b|"
    r"\bhaal (?:mijn|al mijn|me|alles|de) ?(?:gegevens|data|info\w*|chat|gesprek)? ?weg\b|"
    r"\b(?:gegevens|data|gesprek|chat)\b.*\b(?:verwijder\w*|wissen|weghalen|vernietigen)\b|"
    r"\brecht op vergetelheid\b"
)


def asks_withdrawal(text: str) -> bool:
    """'ik wil mijn toestemming intrekken' and the like."""
    return bool(_WITHDRAW.search(_clean(text)))


def asks_erasure(text: str) -> bool:
    """'verwijder mijn gegevens' and the like."""
    return bool(_ERASE.search(_clean(text)))


# --- tone ---------------------------------------------------------------------------------

_ANGRY_WORDS = re.compile(
    r"\b(?:belachelijk|schandalig|schande|waardeloos|waardeloze|bagger|kut|kanker|godver\w*|"
    r"verdomme|klote|tering|idioot|idioten|debiel|nutteloos|nutteloze|ik ben (?:het )?zat|"
    r"ben het spuugzat|spuugzat|pissig|ik word gek|ik word er gek van|niemand helpt|"
    r"jullie helpen nooit|helpen nooit|nooit bereikbaar|wordt niet geholpen|"
    r"word niet geholpen|genoeg van|wat een (?:onzin|grap)|kastje naar de muur|"
    r"(?:ben|word) (?:zo |echt |heel |erg |super |ontzettend )?(?:boos|kwaad|woedend)|"
    r"(?:wacht|wachten) (?:nu )?al \w+ (?:dagen|weken|maanden)|"
    r"al \w+ (?:dagen|weken|maanden) wacht|"
    r"niemand (?:belt|reageert|neemt op))\b"
)
# "waarom duurt het zo lang!!!" is exasperation; "bedankt!!!" is not.
_EXASPERATED = re.compile(r"\b(?:waarom|nog steeds|alweer|weer|nooit|niemand|hoe vaak|hoe lang)\b")
_NOT_ANGRY = re.compile(r"\bniet (?:boos|kwaad|woedend)\b")


def sounds_angry(text: str) -> bool:
    """Anger worth acknowledging before anything else: strong words or shouting (a thankful
    "bedankt!!!" is not anger)."""
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    lowered = text.lower()
    exasperated = "!!" in text and bool(_EXASPERATED.search(lowered))
    words = bool(_ANGRY_WORDS.search(lowered)) and not _NOT_ANGRY.search(lowered)
    return words or shouting or exasperated


# --- language -----------------------------------------------------------------------------

# Words that mark a language; words both languages use ("we", "in", "is", "me", "hallo") are
# left out of both lists.
_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "are",
        "am",
        "i",
        "you",
        "my",
        "what",
        "how",
        "can",
        "could",
        "do",
        "does",
        "don't",
        "i'm",
        "need",
        "help",
        "want",
        "please",
        "with",
        "for",
        "to",
        "of",
        "and",
        "it",
        "this",
        "that",
        "not",
        "money",
        "job",
        "work",
        "benefit",
        "rent",
        "pay",
        "get",
        "speak",
        "english",
        "hello",
        "hi",
        "there",
        "who",
        "where",
        "when",
        "which",
        "have",
        "has",
        "been",
        "any",
        "lost",
        "i've",
        "from",
        "our",
        "your",
        "they",
        "would",
        "should",
        "about",
        "dutch",
    ]
)
_NL = frozenset(
    [
        "de",
        "het",
        "een",
        "ik",
        "je",
        "jij",
        "u",
        "mijn",
        "wat",
        "hoe",
        "kan",
        "kunt",
        "wil",
        "niet",
        "en",
        "met",
        "voor",
        "van",
        "dat",
        "dit",
        "geen",
        "geld",
        "werk",
        "hulp",
        "huur",
        "hoi",
        "wie",
        "waar",
        "wanneer",
        "heb",
        "heeft",
        "ben",
        "zijn",
        "er",
        "op",
        "te",
        "ons",
        "onze",
        "moeten",
        "moet",
        "mag",
        "zoon",
        "dochter",
        "wonen",
        "woon",
        "graag",
        "nu",
        "al",
        "nog",
        "ook",
        "maar",
        "wel",
    ]
)


def looks_english(text: str) -> bool:
    """A message written in English (three or more words, clearly more English than Dutch)."""
    words = re.findall(r"[a-z']+", text.lower())
    if len(words) < 3 and "english" not in words:
        return False
    english = sum(w in _EN for w in words)
    dutch = sum(w in _NL for w in words)
    return english >= 2 and english >= 2 * dutch + 1


# --- age ----------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "twaalf": 12,
    "dertien": 13,
    "veertien": 14,
    "vijftien": 15,
    "zestien": 16,
    "zeventien": 17,
    "achttien": 18,
    "negentien": 19,
    "twintig": 20,
}
_AGE = re.compile(
    r"\b(?:ik ben|ben|i am|i'm|im)\s+(?:pas\s+|net\s+|nog\s+|maar\s+)?(?P<n>\d{1,2}|"
    + "|".join(_NUMBER_WORDS)
    + r")(?:\s*(?:jaar|jr|years?))?\b"
    r"(?!\s*(?:(?:jaar|jr)\s+)?(?:euro|uur|keer|dagen|weken|maanden|kinderen|"
    r"getrouwd|werkloos|ziek|thuis|bezig|samen|in|bij|aan|met|hier|al|lang|weg|gescheiden|"
    r"zwanger|dakloos|geleden|niet)\b)"
    r"|\b(?P<m>\d{1,2})\s*(?:jaar oud|years? old)\b"
)


def age_of(text: str) -> int | None:
    """The resident's own age when they state it ("ik ben 17", "17 jaar"), else None."""
    match = _AGE.search(text.lower())
    if not match:
        return None
    raw = match.group("n") or match.group("m")
    age = _NUMBER_WORDS.get(raw) if raw in _NUMBER_WORDS else int(raw)
    return age if age is not None and 10 <= age <= 99 else None


# --- after a handover ------------------------------------------------------------------------

_WHEN_CONTACT = re.compile(
    r"\b(?:wanneer|hoe snel|hoe lang|wanneer gaan|duurt het)\b.*\b(?:bel\w*|contact|gebeld|"
    r"terug\w*|reactie|reageren|horen)\b|\bwanneer hoor ik\b"
)
_TIME_HINT = re.compile(
    r"[^.!?\n]*\b(?:na|voor|tussen|vanaf|niet voor|niet na) \d{1,2}(?:[.:]\d{2})?(?: uur)?\b"
    r"[^.!?\n]*|[^.!?\n]*\b(?:niet bellen|bel (?:me |mij )?niet|alleen (?:sms|whatsapp|appen)|"
    r"'s (?:ochtends|middags|avonds) bellen|overdag bellen)\b[^.!?\n]*",
    re.IGNORECASE,
)


def asks_when_contact(text: str) -> bool:
    """'wanneer bellen ze dan?', 'hoe snel nemen ze contact op?'"""
    return bool(_WHEN_CONTACT.search(_clean(text)))


def best_time_hint(texts: list[str]) -> str | None:
    """The resident's own words about when (not) to call, from anywhere in the conversation
    ("bel me na 15 uur, dan zijn de kinderen op school"), for the professional."""
    for text in reversed(texts):
        match = _TIME_HINT.search(text)
        if match is None:
            continue
        said = match.group(0).strip()
        if re.search(r"\b(?:bel|bellen|gebeld|contact|sms|bereikbaar|thuis)", said.lower()):
            return said[:200]
    return None


def starts_with_refusal(text: str) -> bool:
    """'nee ik bel liever zelf, wat is het nummer?': a no to what was asked, plus something
    else — the something else is answered and the question is not asked again."""
    return bool(re.match(r"^\s*(?:nee+|neen|no|liever niet|hoeft niet|laat maar)\b", text.lower()))


_PERSON = re.compile(
    r"(?:^|\b(?:graag|aub|pls|svp|wilt u|kunt u|kunnen jullie)\s+)(?:bel|belt)\s+(?:me|mij)\b"
    r"|\b(?:me|mij)\s+(?:bellen|terugbellen|terug bellen)\b"
    r"|\bgebeld (?:worden|wil)"
    r"|\b(?:iemand|een medewerker|een mens|een persoon)\s+(?:\w+\s+){0,4}"
    r"(?:spreken|bellen|belt|praten|langs)\b"
    r"|\b(?:wil|kan ik|mag ik)\s+(?:\w+\s+){0,3}(?:spreken|praten) met\b"
    r"|\blaat iemand (?:\w+\s+){0,2}bellen\b"
    r"|\bcontact met (?:iemand|een medewerker)\b"
    r"|\b(?:echt persoon|echte mens)\b"
)


def asks_for_person(text: str) -> bool:
    """'ik wil dat iemand mij belt', 'kan ik met iemand van schuldhulp praten?', 'laat iemand
    maar bellen': the resident asks for a person, whatever else the message says."""
    return bool(_PERSON.search(_clean(text)))


_REFERENCE_WORD = r"(?:kenmerk|referentie(?:nummer)?|referentienr|volgnummer|zaaknummer)"
_ASKS_REFERENCE = re.compile(
    # "wat is mijn kenmerk", "wat was het kenmerk ook alweer" — not "het kenmerk van de brief"
    rf"\b(?:wat|welk\w*|hoe)\b(?:\s+\S+){{0,4}}?\s+(?:mijn|m'n|mn|het|dat|ons|uw)\s+"
    rf"{_REFERENCE_WORD}\b(?!\s+(?:van|op|in|uit)\b)"
    # "welk kenmerk heb ik", "welk referentienummer kreeg ik"
    rf"|\bwelk\w*\s+{_REFERENCE_WORD}\b(?:\s+\S+){{0,2}}\s+(?:ik|wij|we)\b"
    # "ik ben mijn kenmerk kwijt", "mijn kenmerk nog een keer"
    rf"|\b(?:mijn|m'n|mn|het)\s+{_REFERENCE_WORD}\b.*\b(?:kwijt|vergeten|nog (?:eens|een keer)|"
    rf"opnieuw|weer|alweer|sturen|geven|herhalen)\b"
    # "kenmerk?", "mijn referentienummer?"
    rf"|^(?:mijn |m'n |mn |het |uw )?{_REFERENCE_WORD}$"
)


def asks_reference(text: str) -> bool:
    """'wat is mijn kenmerk?', 'welk referentienummer heb ik?', 'kenmerk?': the resident asks
    for the reference of the handover made in this conversation."""
    return bool(_ASKS_REFERENCE.search(_clean(text)))


_QUESTION_WORDS = re.compile(
    r"\?|^(?:hoe|wat|wie|waar|wanneer|waarom|welke|hoeveel|kan|kun|mag|moet|krijg|is|zijn|"
    r"heb|heeft|word|wordt)\b|\b(?:kan ik|kun ik|mag ik|moet ik|krijg ik|hoe kan|hoe moet|"
    r"wat moet|wie moet|waar kan|waar moet|heb ik recht|kan iemand|kunnen jullie|kunt u)\b"
)


def is_question(text: str) -> bool:
    """A question by its question mark (which _clean strips at the end) or its words."""
    return "?" in text or bool(_QUESTION_WORDS.search(_clean(text)))
