"""Context rules: is a match denied, about someone else, or only a topic or the past?

A pattern only says that words occur; whether they tell about the resident's life now depends
on the words around them. These rules read a normalised spaCy Doc (NORM set by
``normalise.Normaliser.annotate``) and the word sets of crisis.yml:

* negation: "ik heb geen schulden", "schulden heb ik niet", but not "ik heb geen werk door
  mijn depressie" (the negator belongs to "geen werk") and not "ik zoek geen werk" (a wish);
* third party: "mijn buurvrouw wordt geslagen" is a crisis of someone else;
* topic: "een film over zelfmoord" names a subject, nothing happens;
* cancellation: "vorig jaar een hartaanval gehad", "bang dat ik dakloos word", unless an
  immediacy word ("vannacht", "nu") is in the clause.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.life_domains.patterns import PSEUDO, Match
from bot.life_domains.words import WordSets

SENTENCE_ENDS = frozenset({".", "!", "?"})


def clause(doc: Any, start: int, end: int, words: WordSets) -> tuple[int, int]:
    """Token range of the clause around [start, end)."""
    lo, hi = start, end
    while lo > 0 and not words.clauses.ends_clause(doc[lo - 1]):
        lo -= 1
    while hi < len(doc) and not words.clauses.ends_clause(doc[hi]):
        hi += 1
    return lo, hi


def sentence_start(doc: Any, start: int) -> int:
    """Token index where the sentence around `start` begins (after . ! ? or a line break)."""
    lo = start
    while lo > 0 and doc[lo - 1].text not in SENTENCE_ENDS and "\n" not in doc[lo - 1].text:
        lo -= 1
    return lo


# --- negation ----------------------------------------------------------------------------------


def pre_negated(doc: Any, start: int, shielded: set[int], words: WordSets) -> bool:
    """A negator a few tokens before `start`, in the same clause ('ik heb geen schulden').

    "en"/"of" end the scope, unless a head like "problemen" or "last" lies between the
    negator and the coordination: "geen problemen met alcohol of drugs".
    """
    neg, bounds = words.negation, words.clauses
    crossed_soft = head_after_soft = False
    i, steps = start - 1, 0
    while i >= 0 and steps < neg.window_before:
        tok = doc[i]
        if bounds.is_hard(tok) or tok.norm_ in bounds.scope:
            return False
        if tok.norm_ in bounds.soft:
            crossed_soft = True
        elif tok.norm_ in neg.continue_heads and crossed_soft:
            head_after_soft = True
        elif tok.norm_ in neg.negators and i not in shielded:
            return not crossed_soft or head_after_soft
        i -= 1
        steps += 1
    return False


def post_negated(doc: Any, end: int, shielded: set[int], words: WordSets) -> bool:
    """'schulden heb ik niet', 'hij slaat me niet': only fillers between trigger and negator."""
    neg = words.negation
    for j in range(end, min(len(doc), end + neg.window_after)):
        tok = doc[j]
        if tok.norm_ in neg.negators and j not in shielded:
            nxt = doc[j + 1].norm_ if j + 1 < len(doc) else ""
            return nxt not in neg.post_exceptions
        if tok.norm_ not in neg.post_fillers:
            return False
    return False


def resolve_negation(doc: Any, matches: Sequence[Match], words: WordSets) -> None:
    """Settle ``negated`` on every match that is not a pseudo-negation (in place).

    Pass 1: patterns that name their own negator ("geen werk", "huur niet betaald").
    Pass 2: the rest; the negators of pass-1 matches that stand do not negate them
    ("ik heb geen werk door mijn depressie"). Negators inside a pseudo-negation ("weet niet")
    negate nothing.
    """
    neg = words.negation
    pseudo: set[int] = set()
    for m in matches:
        if m.info.kind == PSEUDO:
            pseudo.update(range(m.start, m.end))
    own_first = [m for m in matches if m.info.kind != PSEUDO and m.own_negators]
    rest = [m for m in matches if m.info.kind != PSEUDO and not m.own_negators]
    shielded: set[int] = set()
    for group in (own_first, rest):
        for m in group:
            if m.negated:
                continue
            others = (shielded - m.own_negators) | pseudo | m.own_negators
            m.negated = pre_negated(doc, m.start, others, words) or post_negated(
                doc, m.end, others, words
            )
            if m.own_negators and any(
                doc[j].norm_ in neg.need_words for j in range(m.end, min(len(doc), m.end + 2))
            ):
                m.negated = True  # "ik heb geen slaapplek nodig"
            if (
                m.start in m.own_negators
                and doc[m.start].norm_ == "geen"
                and m.start > 0
                and (doc[m.start - 1].norm_ in neg.want_words)
            ):
                m.negated = True  # "ik zoek geen werk"
        if group is own_first:
            for m in own_first:
                if not m.negated:
                    shielded |= m.own_negators


# --- whose crisis, and is it one --------------------------------------------------------------


def third_party(doc: Any, m: Match, words: WordSets) -> bool:
    """The crisis happens to someone else ('mijn buurvrouw wordt geslagen')."""
    third = words.third_party
    lo, hi = clause(doc, m.start, m.end, words)
    clause_words = [doc[i].norm_ for i in range(lo, hi)]
    if any(w in third.first_person for w in clause_words):
        return False
    for i in range(max(lo, m.start - 3), m.end):
        if doc[i].norm_ in third.first_person_subject:
            around = {doc[j].norm_ for j in (i - 1, i + 1) if 0 <= j < len(doc)}
            if not around & third.witness_verbs:  # "hoor ik gegil": a witness, not a victim
                return False
    violence = m.info.label == "huiselijk_geweld"
    sent_lo = sentence_start(doc, m.start)
    context = [doc[i].norm_ for i in range(sent_lo, hi)]
    if violence:
        outsiders = third.violence_outsiders
        return any(w in outsiders for w in context)
    return any(w in third.people or w in third.pronouns for w in context)


def about_a_topic(doc: Any, m: Match, words: WordSets) -> bool:
    """'een film over zelfmoord', 'de spreekbeurt over huiselijk geweld': the crisis words
    are the subject of a film, news item or talk, not something happening."""
    lo, _ = clause(doc, m.start, m.end, words)
    # the preposition right before the words, or before one adjective: "over huiselijk geweld"
    for i in range(max(lo, m.start - 2), m.start):
        if doc[i].norm_ in words.topic.prepositions:
            return any(doc[j].lemma_ in words.topic.words for j in range(lo, i))
    return False


def cancelled(doc: Any, m: Match, words: WordSets) -> bool:
    """Past or hypothetical crisis words ('vorig jaar een hartaanval gehad', 'bang dat ik
    op straat kom'), unless an immediacy word ('vannacht', 'nu') is in the clause."""
    if about_a_topic(doc, m, words):
        return True
    cues = words.cues_for(m.info.label)
    if not cues.cancel and not cues.cancel_before:
        return False
    sent_lo = sentence_start(doc, m.start)
    _, hi = clause(doc, m.start, m.end, words)
    window = [doc[i].norm_ for i in range(sent_lo, min(len(doc), hi))]
    if any(w in cues.immediate for w in window):
        return False
    # "na mijn hartaanval" is past, "zwelt op na een wespensteek" is not
    if any(doc[i].norm_ in cues.cancel_before for i in range(sent_lo, m.start)):
        return True
    return any(w in cues.cancel for w in window)
