"""Long answers cut into SMS and WhatsApp messages at natural places, text left intact.

An SMS is sent in segments: 153 GSM-7 characters each in a concatenated message (extension
characters such as € count twice), or 67 UCS-2 code units once a single character is outside
GSM-7 (an emoji takes two). Twilio refuses a body over 1600 characters. So `split_message`
cuts a text into parts that each:

- stay within two segments (306 GSM-7 septets or 134 UCS-2 code units) when they can: whole
  paragraphs first, then sentences, packed greedily;
- keep a numbered list ("1. Ja" lines, with the line that introduces it) in one part when it
  fits in one Twilio message, and a sentence whole when it does: such a part may be longer than
  two segments, never longer than the hard limit;
- are cut inside a sentence only when it exceeds the hard limit: between words, and without
  words (Chinese, Japanese) between graphemes, so no surrogate pair, combining accent or emoji
  sequence is ever torn apart.

The text itself is never re-encoded or changed: joining the parts with the whitespace that was
cut gives the original text back. WhatsApp has no segments: a text is cut only beyond
`WHATSAPP_MAX_CHARS`.
"""

import re
from collections.abc import Callable

import regex

GSM7_SEGMENT = 153  # septets per segment of a concatenated GSM-7 message
UCS2_SEGMENT = 67  # UTF-16 code units per segment of a concatenated UCS-2 message
PREFERRED_SEGMENTS = 2
SMS_MAX_CHARS = 1600  # Twilio refuses a longer Body (error 21617)
# WhatsApp itself takes 4096 characters, but Twilio's Messages API documents the same 1600
# for every Body; a longer WhatsApp text would be refused, so that is where it is cut.
WHATSAPP_MAX_CHARS = 1600

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")

_PARAGRAPH = re.compile(r"\S.*?(?:\n[ \t]*\n\s*|\s*$)", re.DOTALL)
_LIST_ITEM = re.compile(r"^[ \t]*\d{1,2}[ \t]*[.):][ \t]+\S")
# After . ! ? … (and closing quotes or brackets) plus whitespace, unless a lowercase letter
# follows ("o.a. de", "bijv. een"); after 。！？ directly; and at every line break.
_SENTENCE_END = regex.compile(
    r"(?<=[.!?…][\"'”’)\]]*)\s+(?!\p{Ll})|(?<=[。！？؟])\s*|\n\s*", regex.VERSION1
)
_WORD = re.compile(r"\S+\s*|\s+")
_GRAPHEME = regex.compile(r"\X\s*")


def gsm7_septets(text: str) -> int | None:
    """Length in GSM-7 septets, or None when the text needs UCS-2."""
    length = 0
    for char in text:
        if char in _GSM7:
            length += 1
        elif char in _GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many segments Twilio bills for `text` as one SMS."""
    septets = gsm7_septets(text)
    if septets is not None:
        return 1 if septets <= 160 else -(-septets // GSM7_SEGMENT)
    units = utf16_units(text)
    return 1 if units <= 70 else -(-units // UCS2_SEGMENT)


def _sms_fits_preferred(text: str) -> bool:
    septets = gsm7_septets(text)
    if septets is not None:
        return septets <= PREFERRED_SEGMENTS * GSM7_SEGMENT
    return utf16_units(text) <= PREFERRED_SEGMENTS * UCS2_SEGMENT


def _length(text: str) -> int:
    """Characters as Twilio counts them against its limit, erring on the long side."""
    septets = gsm7_septets(text)
    return septets if septets is not None else utf16_units(text)


class _Piece(str):
    """A slice of the text; `whole` ones (sentences, numbered lists) are not cut while they fit
    in one message, `kind` says how to cut it smaller."""

    kind: str = "text"


def _piece(text: str, kind: str) -> _Piece:
    piece = _Piece(text)
    piece.kind = kind
    return piece


def _cut(text: str, pattern: "re.Pattern[str] | regex.Pattern[str]") -> list[str]:
    """`text` cut after each match of the boundary `pattern`; the boundary stays with the
    piece before it, so the pieces join to `text`."""
    pieces, start = [], 0
    for match in pattern.finditer(text):
        if match.end() > start and match.end() < len(text):
            pieces.append(text[start : match.end()])
            start = match.end()
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _blocks(paragraph: str) -> list[_Piece]:
    """A paragraph as sentences and numbered lists, each list with the line before it."""
    lines = _lines(paragraph)
    blocks: list[_Piece] = []
    i = 0
    while i < len(lines):
        if _LIST_ITEM.match(lines[i]):
            j = i
            while j < len(lines) and (_LIST_ITEM.match(lines[j]) or not lines[j].strip()):
                j += 1
            items = "".join(lines[i:j])
            intro = ""
            if blocks and blocks[-1].kind == "sentence" and blocks[-1].endswith("\n"):
                intro = blocks.pop()  # the question the options answer
            blocks.append(_piece(intro + items, "list"))
            i = j
            continue
        j = i
        while j < len(lines) and not _LIST_ITEM.match(lines[j]):
            j += 1
        for sentence in _cut("".join(lines[i:j]), _SENTENCE_END):
            blocks.append(_piece(sentence, "sentence"))
        i = j
    return blocks


def _smaller(piece: _Piece) -> list[_Piece]:
    """The next finer cut of a piece that does not fit."""
    if piece.kind == "paragraph":
        return _blocks(piece)
    if piece.kind == "list":
        return [_piece(line, "sentence") for line in _lines(piece)]
    if piece.kind == "sentence":
        sentences = _cut(piece, _SENTENCE_END)
        if len(sentences) > 1:
            return [_piece(s, "sentence") for s in sentences]
        words = _WORD.findall(piece)
        if len(words) > 1:
            return [_piece(w, "word") for w in words]
    return [_piece(g, "grapheme") for g in _GRAPHEME.findall(piece)]


def _pack(
    pieces: list[_Piece], preferred: Callable[[str], bool], limit: Callable[[str], bool]
) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if preferred((current + piece).strip()):
            current += piece
            continue
        if current.strip():
            parts.append(current)
        current = ""
        if preferred(piece.strip()):
            current = piece
        elif piece.kind in ("sentence", "list") and limit(piece.strip()):
            parts.append(piece)  # kept whole: longer than two segments, within one message
        elif piece.kind == "grapheme":
            parts.append(piece)  # cannot be cut (only with an absurd limit)
        else:
            smaller = _pack(_smaller(piece), preferred, limit)
            parts.extend(smaller[:-1])
            current = smaller[-1] if smaller else ""
    if current.strip():
        parts.append(current)
    return parts


def split_message(text: str, channel: str = "sms") -> list[str]:
    """`text` as the bodies of consecutive messages on `channel` ("sms" or "whatsapp")."""
    text = text.strip()
    if not text:
        return []
    if channel == "whatsapp":
        within = lambda part: utf16_units(part) <= WHATSAPP_MAX_CHARS  # noqa: E731
        preferred = limit = within
    else:

        def preferred(part: str) -> bool:
            return _sms_fits_preferred(part)

        def limit(part: str) -> bool:
            return _length(part) <= SMS_MAX_CHARS

    if preferred(text):
        return [text]
    paragraphs = [_piece(p, "paragraph") for p in _PARAGRAPH.findall(text)]
    parts = [part.strip() for part in _pack(paragraphs, preferred, limit)]
    return [part for part in parts if part]
