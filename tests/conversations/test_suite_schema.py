"""Fast checks of the conversation suite itself (no running system): every YAML file follows
the schema, the suite is as large and as varied as required, and the evaluator judges fake
bot replies correctly."""

import json
import re
import threading
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.conversations import suite
from tests.conversations.suite import (
    BotReply,
    Conversation,
    Expectation,
    HandoverExpectation,
    SuiteError,
    Turn,
    check_handover,
    evaluate,
    load_file,
    parse_conversation,
    run_conversation,
)

FILES = sorted(suite.HERE.glob("*.yml"))
CONVERSATIONS = suite.load_suite()


def _reply(*messages: dict[str, Any]) -> BotReply:
    return BotReply(tuple(messages))


def _problems(expect: Expectation, reply: BotReply, channel: str = "web", previous=None):
    return [name for name, _ in evaluate(expect, reply, channel, previous)]


# --- the YAML files -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_file_validates_and_holds_its_own_pattern(path: Path) -> None:
    conversations = load_file(path, suite.known_organisations())
    assert conversations
    assert {c.pattern for c in conversations} == {path.stem}


def test_one_file_per_pattern() -> None:
    assert {p.stem for p in FILES} == set(suite.PATTERN_MINIMUMS)


def test_ids_are_unique() -> None:
    counts = Counter(c.id for c in CONVERSATIONS)
    assert [i for i, n in counts.items() if n > 1] == []


def test_at_least_80_conversations() -> None:
    assert len(CONVERSATIONS) >= suite.MINIMUM_CONVERSATIONS


@pytest.mark.parametrize("pattern", sorted(suite.PATTERN_MINIMUMS))
def test_every_pattern_has_its_minimum(pattern: str) -> None:
    count = sum(c.pattern == pattern for c in CONVERSATIONS)
    assert count >= suite.PATTERN_MINIMUMS[pattern], f"{pattern}: {count}"


def test_all_channels_and_regions_are_covered() -> None:
    channels = Counter(c.channel for c in CONVERSATIONS)
    assert all(channels[ch] >= 15 for ch in suite.CHANNELS), channels
    names = suite.municipality_names()
    regions: Counter[str] = Counter()
    for conv in CONVERSATIONS:
        text = " ".join(t.user for t in conv.turns).lower()
        regions.update(
            {r for name, r in names.items() if re.search(rf"\b{re.escape(name)}\b", text)}
        )
    assert set(regions) == {"peelland", "ijmond", "regio_alkmaar", "woerden"}, regions
    assert all(n >= 10 for n in regions.values()), regions


def test_most_conversations_have_three_to_six_turns() -> None:
    in_range = sum(3 <= len(c.turns) <= 6 for c in CONVERSATIONS)
    assert in_range > len(CONVERSATIONS) / 2


def test_handovers_are_checked_in_every_pattern_that_makes_them() -> None:
    with_handover = Counter(c.pattern for c in CONVERSATIONS if c.handover)
    for pattern in ("conditions_corrections", "side_questions", "way_forward"):
        assert with_handover[pattern] >= 5, with_handover
    assert with_handover["crisis_follow_up"] >= 5
    assert any(c.handover and c.handover.transcript_not_says for c in CONVERSATIONS)


def test_no_conversation_copies_the_training_data() -> None:
    nlu_dir = suite.REPO / "data" / "nlu"
    examples = set()
    for path in nlu_dir.glob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            for line in str(item.get("examples", "")).splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line)
                text = text.strip().lstrip("- ").strip().lower()
                if len(text) > 25:
                    examples.add(text)
    copied = [
        (c.id, t.user) for c in CONVERSATIONS for t in c.turns if t.user.strip().lower() in examples
    ]
    assert copied == []


def test_names_are_filled_in_from_the_region_configuration() -> None:
    assert suite.expand_names("bij {org:peel61}") == "bij " + suite.organisation_name("peel61")
    woerden = suite.organisation_name("regional-of:Woerden")
    assert suite.expand_names("{org:regional-of:Woerden}") == woerden
    assert not suite.team_name("gemeente-someren/sociaal-team").lower().startswith("het ")
    with pytest.raises(SuiteError, match="nope"):
        suite.expand_names("{org:nope}", "here")


# --- the schema refuses mistakes -----------------------------------------------------------------


def _minimal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "x-1",
        "pattern": "way_forward",
        "channel": "web",
        "about": "test",
        "turns": [{"user": "hallo", "expect": {"says_any": ["a"]}}],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "red"}, "unknown key"),
        ({"turns": [{"user": "hoi", "expect": {"say_any": ["a"]}}]}, "unknown key"),
        ({"turns": [{"user": "hoi", "said": "x"}]}, "unknown key"),
        ({"turns": []}, "non-empty list"),
        ({"turns": [{"user": ""}]}, "resident's message"),
        ({"channel": "fax"}, "channel"),
        ({"pattern": "other"}, "unknown pattern"),
        ({"id": "Has Spaces"}, "lower case"),
        ({"turns": [{"user": "hoi", "expect": {"says_all": []}}]}, "non-empty list"),
        ({"turns": [{"user": "hoi", "expect": {"says_regex": ["("]}}]}, "regular expression"),
        ({"turns": [{"user": "hoi", "expect": {"max_choices": -1}}]}, "whole number"),
        ({"turns": [{"user": "hoi", "expect": {"choices": "yes"}}]}, "true or false"),
        ({"handover": {"level": "local"}}, "missing key"),
        ({"handover": {"organisation": "nobody"}}, "unknown organisation"),
        ({"handover": {"organisation": "peel61", "priority": "high"}}, "priority"),
        ({"handover": {"organisation": "peel61", "shoe": 1}}, "unknown key"),
        ({"handover": {"organisation": "regional-of:Atlantis"}}, "no municipality"),
    ],
)
def test_schema_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SuiteError, match=message):
        parse_conversation(
            _minimal(**overrides), "t.yml[1]", organisations=suite.known_organisations()
        )


def test_pattern_must_match_the_file() -> None:
    with pytest.raises(SuiteError, match="in the file of"):
        parse_conversation(_minimal(), "t.yml[1]", pattern="side_questions")


def test_says_any_takes_one_group_or_several() -> None:
    one = parse_conversation(_minimal(), "t")
    assert one.turns[0].expect.says_any == (("a",),)
    several = parse_conversation(
        _minimal(turns=[{"user": "x", "expect": {"says_any": [["a", "b"], ["c"]]}}]), "t"
    )
    assert several.turns[0].expect.says_any == (("a", "b"), ("c",))


# --- the evaluator ------------------------------------------------------------------------------

CONSENT_WEB = {
    "text": "Ik kan uw vraag doorgeven aan Senzer. Mag ik dit delen?",
    "buttons": [{"title": "Ja", "payload": "/affirm"}, {"title": "Nee", "payload": "/deny"}],
}
CONSENT_SMS = {"text": "Ik kan uw vraag doorgeven aan Senzer. Mag ik dit delen?\n1. Ja\n2. Nee"}
LONG = (
    "Heeft u niet genoeg geld om van te leven? "
    "Dan kunt u misschien bijstand krijgen bij Senzer, online."
)


def test_says_all_any_and_not_says_are_case_insensitive_and_tolerant_of_spacing() -> None:
    reply = _reply({"text": "Bel 113 of gratis 0800\u20110113.  Gaat het om  U zelf?"})
    expect = Expectation(
        says_all=("113", "0800-0113"),
        says_any=(("gaat het om u", "om uzelf"),),
        not_says=("begreep ik niet",),
    )
    assert _problems(expect, reply) == []
    assert _problems(Expectation(says_all=("112",)), reply) == ["says_all"]
    assert _problems(Expectation(says_any=(("voorrang", "medewerker"),)), reply) == ["says_any"]
    assert _problems(Expectation(not_says=("GAAT HET",)), reply) == ["not_says"]


def test_several_says_any_groups_must_each_match() -> None:
    reply = _reply({"text": "Een medewerker belt u binnen 1 werkdag."})
    ok = Expectation(says_any=(("werkdag", "morgen"), ("medewerker",)))
    assert _problems(ok, reply) == []
    missing = Expectation(says_any=(("werkdag",), ("bij de hand", "klaar")))
    assert _problems(missing, reply) == ["says_any"]


def test_button_titles_count_as_text() -> None:
    reply = _reply({"text": "Which language?", "buttons": [{"title": "English", "payload": "/en"}]})
    assert _problems(Expectation(says_any=(("English",),)), reply) == []


def test_regexes() -> None:
    reply = _reply({"text": "Uw kenmerk is VD-7K3P-92. Bewaar dit kenmerk."})
    assert _problems(Expectation(says_regex=(r"VD-[A-Z0-9]{4}-\d{2}",)), reply) == []
    assert _problems(Expectation(not_regex=(r"VD-[A-Z0-9]{4}-\d{2}",)), reply) == ["not_regex"]
    assert _problems(Expectation(says_regex=(r"VD-\d{9}",)), reply) == ["says_regex"]


def test_says_in_order() -> None:
    reply = _reply({"text": "Bel nu 112."}, {"text": "Daarna: Veilig Thuis 0800-2000."})
    assert _problems(Expectation(says_in_order=("112", "Veilig Thuis")), reply) == []
    assert _problems(Expectation(says_in_order=("Veilig Thuis", "112")), reply) == ["says_in_order"]
    assert _problems(Expectation(says_in_order=("112", "113")), reply) == ["says_in_order"]


def test_at_most_once() -> None:
    twice = _reply({"text": "In welke gemeente woont u?"}, {"text": "In welke gemeente woont u?"})
    assert _problems(Expectation(at_most_once=("in welke gemeente",)), twice) == ["at_most_once"]
    once = _reply({"text": "In welke gemeente woont u?"})
    assert _problems(Expectation(at_most_once=("in welke gemeente",)), once) == []


def test_choices_are_buttons_on_web_and_numbered_lines_on_sms() -> None:
    want = Expectation(choices=True)
    assert _problems(want, _reply(CONSENT_WEB), "web") == []
    assert _problems(want, _reply(CONSENT_SMS), "sms") == []
    assert _problems(want, _reply(CONSENT_SMS), "web") == ["choices"]
    assert _problems(want, _reply(CONSENT_WEB), "whatsapp") == ["choices"]
    assert _problems(want, _reply({"text": "Geen keuze hier."}), "sms") == ["choices"]
    assert _problems(Expectation(choices=False), _reply(CONSENT_WEB), "web") == ["choices"]
    assert _problems(Expectation(choices=False), _reply({"text": "1 ding"}), "sms") == []


def test_max_choices_counts_messages_offering_choices() -> None:
    offer = {"text": "Wilt u dat een medewerker contact met u opneemt?\n1. Ja\n2. Nee"}
    stacked = _reply(offer, CONSENT_SMS)
    assert _problems(Expectation(max_choices=1), stacked, "sms") == ["max_choices"]
    assert _problems(Expectation(max_choices=2), stacked, "sms") == []
    assert _problems(Expectation(max_choices=1), _reply(CONSENT_WEB, {"text": "x"}), "web") == []


def test_not_same_as_previous_catches_a_repeated_paragraph_only() -> None:
    first = _reply({"text": LONG}, {"text": "Wilt u dat een medewerker contact met u opneemt?"})
    same = _reply({"text": LONG.upper()})
    other = _reply(
        {"text": "Bijverdienen mag soms, geef het altijd door aan Senzer (inlichtingenplicht)."},
        {"text": "Wilt u dat een medewerker contact met u opneemt?"},
    )
    expect = Expectation(not_same_as_previous=True)
    assert _problems(expect, same, previous=first) == ["not_same_as_previous"]
    assert _problems(expect, other, previous=first) == []
    assert _problems(expect, same, previous=None) == []


def test_an_empty_reply_always_fails() -> None:
    assert _problems(Expectation(), _reply()) == ["reply"]


def test_every_turn_expectations_are_added() -> None:
    merged = Expectation(says_all=("a",), max_choices=2).merged(
        Expectation(not_says=("123456782",), max_choices=1)
    )
    assert merged.says_all == ("a",) and merged.not_says == ("123456782",)
    assert merged.max_choices == 1


# --- running a conversation against a fake bot ---------------------------------------------------


def test_run_conversation_reports_failures_per_turn_with_the_bot_text() -> None:
    conversation = Conversation(
        id="fake-1",
        pattern="way_forward",
        channel="sms",
        about="fake",
        turns=(
            Turn("medewerker", Expectation(says_any=(("In welke gemeente",),))),
            Turn("helmond", Expectation(choices=True)),
            Turn("1", Expectation(says_regex=(r"VD-[A-Z0-9]{4}-\d{2}",))),
        ),
        every_turn=Expectation(not_says=("begreep ik niet",)),
    )
    scripted = iter(
        [
            [{"text": "In welke gemeente woont u?"}],
            [{"text": "Sorry, dat begreep ik niet."}],
            [{"text": "Uw kenmerk is VD-ACDE-12."}],
        ]
    )
    senders = set()

    def send(sender: str, text: str, channel: str) -> list[dict[str, Any]]:
        senders.add(sender)
        assert channel == "sms"
        return next(scripted)

    result = run_conversation(conversation, send=send)
    assert len(senders) == 1 and "fake-1" in senders.pop()
    assert result.reference == "VD-ACDE-12"
    assert not result.passed
    assert result.failing_turns() == [2]
    assert {f.expectation for f in result.failures} == {"choices", "not_says"}
    assert all("begreep ik niet" in f.bot_text for f in result.failures)
    report = result.report()
    assert "2. USER: helmond" in report and "x not_says" in report


def test_each_run_gets_a_fresh_sender() -> None:
    conversation = CONVERSATIONS[0]
    seen: list[str] = []

    def send(sender: str, text: str, channel: str) -> list[dict[str, Any]]:
        seen.append(sender)
        return [{"text": "ok"}]

    run_conversation(conversation, send=send)
    run_conversation(conversation, send=send)
    assert seen[0] != seen[-1]


# --- handover checks ----------------------------------------------------------------------------

HANDOVER = {
    "reference": "VD-ACDE-12",
    "channel": "web",
    "priority": "urgent",
    "destination": {"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"},
    "crisis": {"type": "suicidaliteit"},
    "municipality": {"code": "GM0794", "name": "Helmond"},
    "summary": "Inwoner wil na 15 uur gebeld worden.",
    "contact": {"phone": "0612345678", "best_time": "na 15:00"},
    "consent": {"given": True, "withdrawn_at": None},
}


def test_check_handover_accepts_a_matching_handover() -> None:
    expect = HandoverExpectation(
        organisation="gemeente-helmond",
        level="local",
        priority="urgent",
        crisis="suicidaliteit",
        municipality="Helmond",
        summary_says_any=("na 15 uur",),
        best_time_says_any=("15",),
        mentions_any=("15",),
        phone="+31 6 12345678",
        transcript_not_says=("123456782",),
        consent_withdrawn=False,
    )
    transcripts = {"redacted": ["ik wil niet meer", "[BSN]"], "full": ["[BSN verwijderd]"]}
    assert check_handover(expect, HANDOVER, "web", transcripts) == []


def test_check_handover_names_every_mismatch() -> None:
    expect = HandoverExpectation(
        organisation="gemeente-helmond",
        level="regional",
        priority="normal",
        crisis="none",
        municipality="Deurne",
        summary_says_any=("maandag",),
        best_time_says_any=("ochtend",),
        mentions_any=("sms",),
        phone="0687654321",
        transcript_not_says=("123456782",),
        consent_withdrawn=True,
    )
    problems = dict(check_handover(expect, HANDOVER, "sms", {"full": ["mijn bsn is 123456782"]}))
    assert set(problems) == {
        "channel",
        "level",
        "priority",
        "crisis",
        "municipality",
        "summary_says_any",
        "best_time_says_any",
        "mentions_any",
        "phone",
        "transcript_not_says",
        "consent_withdrawn",
    }


def test_regional_of_resolves_through_the_region_configuration() -> None:
    regional = suite.resolve_organisation("regional-of:Woerden")
    assert regional in suite.known_organisations()
    assert suite.resolve_organisation("peel61") == "peel61"


# --- the HTTP side, against a tiny fake of Rasa's REST channel and the handover API --------------


class _FakeSystem(BaseHTTPRequestHandler):
    """Answers every resident message with a reference; lists one handover for a token."""

    posted: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.posted.append(json.loads(self.rfile.read(length)))
        self._json([{"recipient_id": "x", "text": "Uw kenmerk is VD-ACDE-12."}])

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer secret-token":
            self._json({"detail": "no"}, 401)
        elif self.path.startswith("/api/v1/handovers?"):
            self._json({"items": [{**HANDOVER, "id": "h-1"}], "total": 1, "page_size": 100})
        elif self.path.startswith("/api/v1/handovers/h-1/transcript?view=full"):
            self._json({"detail": "forbidden"}, 403)
        elif self.path.startswith("/api/v1/handovers/h-1/transcript"):
            self._json({"events": [{"text": "mijn bsn is [BSN]"}]})
        else:
            self._json({"detail": "not found"}, 404)


def test_run_conversation_over_http_checks_the_handover() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSystem)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        conversation = Conversation(
            id="fake-http",
            pattern="consent_privacy",
            channel="web",
            about="fake",
            turns=(Turn("06 12345678", Expectation(says_regex=(r"VD-[A-Z0-9]{4}-\d{2}",))),),
            handover=HandoverExpectation(
                organisation="gemeente-helmond",
                level="local",
                transcript_not_says=("123456782",),
            ),
        )
        asked: list[str] = []

        def token_for(organisation: str) -> str:
            asked.append(organisation)
            return "secret-token"

        result = run_conversation(conversation, url, api_url=url, token_for=token_for)
        assert result.passed, result.report()
        assert result.handover_checked and asked == ["gemeente-helmond"]
        assert _FakeSystem.posted[-1]["metadata"] == {"channel": "web"}

        wrong = replace(conversation, handover=replace(conversation.handover, level="regional"))
        failed = run_conversation(wrong, url, api_url=url, token_for=token_for)
        assert [(f.turn, f.expectation) for f in failed.failures] == [(None, "level")]
        assert "handover: reference VD-ACDE-12" in failed.report()
    finally:
        server.shutdown()


def test_known_gaps_name_existing_conversations_with_a_reason() -> None:
    gaps_file = Path(__file__).resolve().parents[1] / "e2e" / "conversation_gaps.yml"
    gaps = yaml.safe_load(gaps_file.read_text(encoding="utf-8"))["gaps"]
    ids = {c.id for c in suite.load_suite()}
    assert set(gaps) <= ids, sorted(set(gaps) - ids)
    assert all(isinstance(r, str) and len(r) > 20 for r in gaps.values())
    assert len(gaps) <= len(ids) // 2  # gaps are the exception, not the suite
