"""Knowledge base: every information intent answered for every municipality and channel,
short enough for chat and SMS, sourced and dated, never stating an amount, and the most
specific override winning."""

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from actions.aspects import aspects_of
from actions.knowledge import (
    CHAT_MAX_WORDS,
    SMS_MAX_CHARS,
    KnowledgeBase,
    KnowledgeError,
    clear_cache,
    default_knowledge_dir,
    gsm7_length,
    load_knowledge,
)
from actions.regions import Municipality, RegionConfig, load_regions

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "contract"  # the repository's copy of the shared contract
REQUIRED_TOPICS = {
    "bijstand",
    "zoektermijn_jongeren",
    "bijzondere_bijstand",
    "minimaregelingen",
    "individuele_inkomenstoeslag",
    "collectieve_zorgverzekering",
    "kwijtschelding",
    "schuldhulp",
    "wmo",
    "jeugdhulp",
    "voorschot",
    "werk",
    "beschut_werk",
    "banenafspraak",
    "werkgever",
    "wijziging_doorgeven",
    "uitbetaling",
    "bezwaar",
    "zelfstandige",
    "contact",
    "status_aanvraag",
    "out_of_scope",
}
# National schemes and neighbouring questions: a short referral to who handles it.
NATIONAL_TOPICS = {
    "toeslagen": "ask_toeslagen",
    "svb": "ask_svb",
    "uwv": "ask_uwv",
    "belastingdienst": "ask_belastingdienst",
    "juridisch_loket": "ask_juridisch_loket",
    "voedselbank": "ask_voedselbank",
    "kindertelefoon": "ask_kindertelefoon",
    "crisisdienst_ggz": "ask_ggz_crisis",
    "onder_18": "ask_onder_18",
    "fraude_melden": "ask_fraude_melden",
    "verhuizen": "ask_verhuizen",
    "hulp_formulieren": "ask_hulp_formulieren",
}
EURO_AMOUNT = re.compile(r"€\s*\d|\beuro\s*\d|\d[\d.,]*\s*(?:€|euro)", re.IGNORECASE)
INFORMAL = re.compile(r"\b(je|jij|jou|jouw|jullie)\b", re.IGNORECASE)


def _ask_intents() -> list[str]:
    contract = yaml.safe_load((CONTRACT / "intents.yml").read_text(encoding="utf-8"))
    return [i for i in contract["intents"] if i.startswith("ask_")]


ASK_INTENTS = _ask_intents()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="module")
def regions() -> RegionConfig:
    return load_regions()


def _all_texts(kb: KnowledgeBase) -> list[tuple[str, str]]:
    found = []
    for entry in kb.entries.values():
        layers = [
            entry.answer,
            *entry.overrides.regions.values(),
            *entry.overrides.municipalities.values(),
        ]
        for layer in layers:
            for field in ("chat", "sms", "more"):
                if getattr(layer, field):
                    found.append((f"{entry.id}.{field}", getattr(layer, field)))
            found += [(f"{entry.id}.facts.{k}", v) for k, v in layer.facts.items()]
    return found


def test_required_topics_present(kb: KnowledgeBase) -> None:
    assert set(kb.topics) >= REQUIRED_TOPICS | set(NATIONAL_TOPICS)


def test_every_unverified_entry_says_what_is_unverified(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        assert entry.verified or entry.notes, entry.id


def test_every_ask_intent_maps_to_exactly_one_entry(kb: KnowledgeBase) -> None:
    assert len(ASK_INTENTS) >= 15
    for intent in ASK_INTENTS:
        owners = [e.id for e in kb.entries.values() if intent in e.intents]
        assert len(owners) == 1, (intent, owners)
        assert kb.topic_for_intent(intent) == owners[0]
    assert kb.topic_for_intent("ask_bijstand") == "bijstand"
    assert kb.topic_for_intent("out_of_scope") == "out_of_scope"
    assert kb.topic_for_intent("greet") is None


def test_every_entry_sourced_dated_and_checked_after_in_balans(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        assert entry.sources and all(s.title for s in entry.sources), entry.id
        assert isinstance(entry.checked, date) and entry.checked >= date(2026, 1, 1), entry.id
        for source in entry.sources:
            assert source.url is None or source.url.startswith("https://"), entry.id


@pytest.mark.parametrize("intent", ASK_INTENTS)
def test_answer_for_every_municipality_and_channel(
    kb: KnowledgeBase, regions: RegionConfig, intent: str
) -> None:
    topic = kb.topic_for_intent(intent)
    assert topic is not None
    municipalities: list[Municipality | None] = [None, *regions.municipalities]
    for municipality in municipalities:
        where = municipality.name if municipality else "unknown municipality"
        chat = kb.answer(topic, municipality, regions, "web")
        sms = kb.answer(topic, municipality, regions, "sms")
        whatsapp = kb.answer(topic, municipality, regions, "whatsapp")
        assert whatsapp.text == sms.text
        for answer in (chat, sms):
            for text in (answer.text, answer.more or "", answer.link or ""):
                assert "{" not in text and "}" not in text, (topic, where, text)
            assert answer.source and answer.checked
            assert answer.needs_municipality == (
                municipality is None and kb.entry(topic).depends_on_municipality()
            )
        assert len(chat.text.split()) <= CHAT_MAX_WORDS, (topic, where)
        assert len((chat.more or "").split()) <= CHAT_MAX_WORDS, (topic, where)
        length = gsm7_length(sms.text)
        assert length is not None, (topic, where, "not GSM-7: would need UCS-2 segments")
        assert length <= SMS_MAX_CHARS, (topic, where, length)
        assert chat.link is None or chat.link.startswith("https://")


def test_every_entry_answers_everywhere(kb: KnowledgeBase, regions: RegionConfig) -> None:
    kb.validate_against(regions)


def test_every_fact_is_short_gsm7_and_formal_everywhere(
    kb: KnowledgeBase, regions: RegionConfig
) -> None:
    # A fact is sent as it is, on every channel: it must fit two SMS segments in GSM-7 once
    # the placeholders are filled, for every municipality and for an unknown one.
    municipalities: list[Municipality | None] = [None, *regions.municipalities]
    for topic in kb.topics:
        for municipality in municipalities:
            where = municipality.name if municipality else "unknown municipality"
            facts = kb.answer(topic, municipality, regions, "sms").facts
            assert facts == kb.answer(topic, municipality, regions, "web").facts
            for aspect, fact in facts.items():
                length = gsm7_length(fact)
                assert length is not None, (topic, aspect, where, "not GSM-7")
                assert length <= SMS_MAX_CHARS, (topic, aspect, where, length)
                assert not INFORMAL.search(fact), (topic, aspect, where)
                assert "{" not in fact and "}" not in fact, (topic, aspect, where)


@pytest.mark.parametrize(
    "topic, question, aspect",
    [
        ("kindertelefoon", "is dat gratis?", "kosten"),
        ("kindertelefoon", "waar kan ik het anoniem melden", "anoniem"),
        ("wmo", "kost dat geld?", "kosten"),
        ("wmo", "hoe lang duurt dat?", "hoe_lang"),
        ("uwv", "en als dat niet lukt?", "afgewezen"),
        ("bijstand", "hoeveel krijg ik nou?", "bedrag"),
        ("bijstand", "moet ik mijn DigiD klaar houden als ze bellen?", "digid"),
        ("bijstand", "blijft Senzer dan betalen?", "wie_betaalt"),
        ("bijstand", "en als het wordt afgewezen?", "afgewezen"),
        ("verhuizen", "blijft Senzer dan betalen?", "wie_betaalt"),
        ("toeslagen", "en als ik de huur nu niet kan betalen?", "niet_betalen"),
        ("minimaregelingen", "is er iets zoals jeugdfonds sport of leergeld?", "sport_cultuur"),
        ("fraude_melden", "waar kan ik het anoniem melden", "anoniem"),
        ("schuldhulp", "is dat gratis?", "kosten"),
        ("schuldhulp", "hoe lang duurt dat?", "hoe_lang"),
        ("jeugdhulp", "kost dat geld?", "kosten"),
        ("voedselbank", "is dat gratis?", "kosten"),
        ("bijzondere_bijstand", "en als het wordt afgewezen?", "afgewezen"),
        ("klacht", "hoe lang duurt dat?", "hoe_lang"),
        ("crisisdienst_ggz", "hij is niet gevaarlijk hoor, gewoon in de war", "geen_gevaar"),
        ("hulp_formulieren", "is dat gratis?", "kosten"),
    ],
)
def test_follow_up_questions_find_their_fact(
    kb: KnowledgeBase, regions: RegionConfig, topic: str, question: str, aspect: str
) -> None:
    # The follow-ups the review found, each answered by the entry's own fact.
    for code in (None, "GM0794", "GM0453"):
        municipality = regions.municipality(code) if code else None
        facts = kb.answer(topic, municipality, regions, "web").facts
        found = next((a for a in aspects_of(question) if a in facts), None)
        assert found == aspect, (topic, question, code, found)


def test_no_amounts_and_formal_u(kb: KnowledgeBase) -> None:
    for where, text in _all_texts(kb):
        assert not EURO_AMOUNT.search(text), where
        assert not INFORMAL.search(text), where
        assert "€" not in text, where


def test_euro_regex_catches_amounts() -> None:
    for text in ("€ 1.200", "€1200", "euro 50", "1.200 euro", "1200€"):
        assert EURO_AMOUNT.search(text)
    assert not EURO_AMOUNT.search("0800-2000 is gratis")


def test_gsm7_length() -> None:
    assert gsm7_length("Bijstand: bel 14 0492.") == 22
    assert gsm7_length("€") == 2
    assert gsm7_length("financiële") is None  # ë is not in GSM-7


def test_answers_follow_the_region_config(kb: KnowledgeBase, regions: RegionConfig) -> None:
    def text(topic: str, code: str, channel: str = "web") -> str:
        return kb.answer(topic, regions.municipality(code), regions, channel).text

    assert "Senzer" in text("bijstand", "GM0794")
    assert "Senzer" in text("bijstand", "GM1771")
    assert "Werkplein IJmond" in text("bijstand", "GM0453")
    assert "Jongerenloket" in text("zoektermijn_jongeren", "GM0453")
    assert "Jongerenloket" in text("zoektermijn_jongeren", "GM0375", "sms")
    assert "Jongerenloket" not in text("zoektermijn_jongeren", "GM0794")
    assert "Werkgeversplein Peelland" in text("werkgever", "GM0794")
    assert "IJmond" in text("werkgever", "GM0396")
    assert "Ferm Werk" in text("bijstand", "GM0632")
    assert "Ferm Werk" in text("bijstand", "GM1901")  # no department of its own today
    assert "voorportaal" in text("schuldhulp", "GM0361")
    assert "voorportaal" not in text("schuldhulp", "GM0399")
    assert "wijkteam Helmond" in text("wmo", "GM0794")
    assert "Geldrop-Mierlo" in text("jeugdhulp", "GM1771")
    assert "www.woerden.nl" in text("out_of_scope", "GM0632")
    contact = kb.answer("contact", regions.municipality("GM0794"), regions, "web")
    # Helmond's number in the config is example data: residents get no unverified number.
    assert "14 0492" not in contact.text
    assert "het algemene nummer van uw gemeente" in contact.text
    assert contact.service == "information"
    assert contact.link == "https://www.helmond.nl"


def test_unknown_municipality_gets_generic_text(kb: KnowledgeBase, regions: RegionConfig) -> None:
    answer = kb.answer("contact", None, regions, "web")
    assert answer.needs_municipality and answer.link is None
    assert "de gemeente waar u woont" in answer.text
    helmond = regions.municipality("GM0794")
    assert kb.answer("contact", helmond, regions, "web").needs_municipality is False


def test_minimaregelingen_points_to_the_separate_entries(kb: KnowledgeBase) -> None:
    related = set(kb.entry("minimaregelingen").related)
    parts = {"individuele_inkomenstoeslag", "collectieve_zorgverzekering", "kwijtschelding"}
    assert parts <= related
    assert "voorschot" in kb.entry("uitbetaling").related


def test_law_references(kb: KnowledgeBase) -> None:
    def articles(topic: str) -> str:
        return " ".join(f"{s.title} {s.article or ''}" for s in kb.entry(topic).sources)

    assert "art. 52" in articles("voorschot") and "Participatiewet" in articles("voorschot")
    assert "art. 41" in articles("zoektermijn_jongeren")
    assert "art. 35" in articles("bijzondere_bijstand")
    assert "art. 17" in articles("wijziging_doorgeven")
    assert "art. 6:7" in articles("bezwaar")
    assert "art. 4a" in articles("schuldhulp")
    assert "2.3.2" in articles("wmo") and "2.3.5" in articles("wmo")
    assert "Jeugdwet" in articles("jeugdhulp")
    assert "Bbz" in articles("zelfstandige")


# --- override precedence and validation, with a small fixture knowledge base ---------------

FIXTURE = """
id: proef
intents: [ask_proef]
title: Proef
service: bijstand_intake
sources: [{title: Participatiewet, article: art. 11}]
checked: 2026-11-20
verified: true
answer: {chat: "landelijk {gemeente}", sms: "landelijk sms", more: "landelijk meer"}
overrides:
  regions:
    peelland: {chat: "regio {regio_organisatie}", sms: "regio sms"}
  municipalities:
    GM0794: {chat: "gemeente {gemeente}"}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / f"{name}.yml").write_text(text, encoding="utf-8")
    clear_cache()
    return tmp_path


def test_municipality_beats_region_beats_national(tmp_path: Path, regions: RegionConfig) -> None:
    kb = load_knowledge(_write(tmp_path, "proef", FIXTURE))
    helmond, deurne, velsen = (regions.municipality(c) for c in ("GM0794", "GM0762", "GM0453"))
    assert kb.answer("proef", helmond, regions, "web").text == "gemeente Helmond"
    assert kb.answer("proef", helmond, regions, "sms").text == "regio sms"  # not overridden
    assert kb.answer("proef", deurne, regions, "web").text == "regio Senzer"
    assert kb.answer("proef", velsen, regions, "web").text == "landelijk Velsen"
    assert kb.answer("proef", velsen, regions, "sms").text == "landelijk sms"
    assert kb.answer("proef", helmond, regions, "web").more == "landelijk meer"
    assert kb.answer("proef", None, regions, "web").text == "landelijk waar u woont"
    assert kb.topic_for_intent("ask_proef") == "proef"


def test_placeholder_at_sentence_start_is_capitalised(
    tmp_path: Path, regions: RegionConfig
) -> None:
    text = FIXTURE.replace('chat: "regio {regio_organisatie}"', 'chat: "Ja. {lokaal_team} helpt."')
    kb = load_knowledge(_write(tmp_path, "proef", text))
    answer = kb.answer("proef", regions.municipality("GM0762"), regions, "web")
    assert answer.text == "Ja. Zorg in Deurne helpt."


@pytest.mark.parametrize(
    "change, field",
    [
        (('"landelijk {gemeente}"', '"landelijk {wethouder}"'), "answer.chat"),
        (("sources: [{title: Participatiewet, article: art. 11}]", "sources: []"), "sources"),
        (("checked: 2026-11-20", "checked: gisteren"), "checked"),
        (("service: bijstand_intake", "service: huisvesting"), "service"),
        (("GM0794:", "Helmond:"), "overrides.municipalities"),
        (("id: proef", "id: test"), "id"),
    ],
)
def test_broken_entry_names_file_and_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    assert change[0] in FIXTURE
    _write(tmp_path, "proef", FIXTURE.replace(*change))
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(tmp_path)
    assert err.value.file == "proef.yml"
    assert err.value.field.startswith(field), str(err.value)


def test_intent_claimed_twice_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "proef", FIXTURE)
    _write(tmp_path, "proef2", FIXTURE.replace("id: proef", "id: proef2"))
    with pytest.raises(KnowledgeError, match="ask_proef"):
        load_knowledge(tmp_path)


def test_override_for_unknown_region_is_reported(tmp_path: Path, regions: RegionConfig) -> None:
    kb = load_knowledge(_write(tmp_path, "proef", FIXTURE.replace("peelland:", "brabant:")))
    with pytest.raises(KnowledgeError, match=r"overrides\.regions\.brabant"):
        kb.validate_against(regions)


# --- national schemes: who handles it and how to reach them, sourced and dated -------------


@pytest.mark.parametrize("topic, intent", sorted(NATIONAL_TOPICS.items()))
def test_national_entry_sourced_dated_and_answers_everywhere(
    kb: KnowledgeBase, regions: RegionConfig, topic: str, intent: str
) -> None:
    entry = kb.entry(topic)
    assert kb.topic_for_intent(intent) == topic
    assert any(s.url and s.url.startswith("https://") for s in entry.sources), topic
    assert entry.checked == date(2026, 12, 2), topic
    assert entry.verified or entry.notes, topic
    for municipality in [None, *regions.municipalities]:
        sms = kb.answer(topic, municipality, regions, "sms").text
        length = gsm7_length(sms)
        assert length is not None and length <= SMS_MAX_CHARS, (topic, length)
        chat = kb.answer(topic, municipality, regions, "web")
        assert len(chat.text.split()) <= CHAT_MAX_WORDS, topic
        assert chat.link is None or chat.link.startswith("https://"), topic


def test_a_complaint_under_the_contracts_ask_bezwaar_gets_the_klacht_entry(
    kb: KnowledgeBase, regions: RegionConfig
) -> None:
    """The contract fixes ask_bezwaar for objections and complaints alike; the words decide."""
    assert kb.topic_for("ask_bezwaar", "hoe dien ik een klacht in over mijn klantmanager") == (
        "klacht"
    )
    assert kb.topic_for("ask_bezwaar", "Ik wil KLAGEN over het loket") == "klacht"
    assert kb.topic_for("ask_bezwaar", "mijn aanvraag is afgewezen, wat nu?") == "bezwaar"
    assert kb.topic_for("ask_wmo", "klacht over mijn thuiszorg") == "wmo"
    assert kb.topic_for("greet", "hallo") is None
    castricum = regions.municipality("GM0383")
    assert "klacht" in kb.answer("klacht", castricum, regions, "sms").text.lower()


def test_a_refinement_must_name_an_existing_entry(tmp_path: Path) -> None:
    source = default_knowledge_dir()
    for file in source.glob("*.yml"):
        (tmp_path / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    bezwaar = tmp_path / "bezwaar.yml"
    bezwaar.write_text(
        bezwaar.read_text(encoding="utf-8").replace("  - topic: klacht", "  - topic: klachten"),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="refine"):
        load_knowledge(tmp_path)


def _both(kb: KnowledgeBase, regions: RegionConfig, topic: str, code: str | None = None) -> str:
    municipality = regions.municipality(code) if code else None
    return " | ".join(
        kb.answer(topic, municipality, regions, channel).text for channel in ("web", "sms")
    )


@pytest.mark.parametrize(
    "topic, needles",
    [
        ("toeslagen", ["Dienst Toeslagen", "0800-0543", "toeslagen.nl"]),
        ("belastingdienst", ["Belastingdienst", "0800-0543", "betalingsregeling"]),
        ("svb", ["SVB", "AIO-aanvulling", "svb.nl"]),
        ("uwv", ["UWV", "uwv.nl", "bijstand"]),
        ("juridisch_loket", ["Juridisch Loket", "0900-8020", "juridischloket.nl"]),
        ("voedselbank", ["voedselbank", "voedselbankennederland.nl"]),
        ("kindertelefoon", ["Kindertelefoon", "0800-0432", "kindertelefoon.nl", "0800-2000"]),
        ("crisisdienst_ggz", ["huisarts", "huisartsenpost", "crisisdienst", "113", "112"]),
        ("onder_18", ["geen bijstand", "21", "0800-0432", "0800-2000"]),
        ("fraude_melden", ["anoniem", "0800-7000"]),
        ("verhuizen", ["5 dagen", "opnieuw bijstand", "nieuwe gemeente"]),
        ("klacht", ["klacht", "6 weken", "bezwaar"]),
        ("hulp_formulieren", ["Informatiepunt Digitale Overheid", "bibliotheek", "gratis"]),
    ],
)
def test_national_answers_name_who_and_how(
    kb: KnowledgeBase, regions: RegionConfig, topic: str, needles: list[str]
) -> None:
    for code in (None, "GM0794", "GM0453"):
        text = _both(kb, regions, topic, code)
        for needle in needles:
            assert needle in text, (topic, code, needle)


def test_national_answers_route_money_questions_to_the_region(
    kb: KnowledgeBase, regions: RegionConfig
) -> None:
    assert "Senzer" in _both(kb, regions, "toeslagen", "GM0794")
    assert "Werkplein IJmond" in _both(kb, regions, "uwv", "GM0453")
    assert "Senzer" in _both(kb, regions, "voedselbank", "GM0794")
    assert "Jongerenloket" in _both(kb, regions, "onder_18", "GM0453")


def test_unverified_contact_details_are_not_stated(kb: KnowledgeBase) -> None:
    # Numbers that could not be checked against a current page stay out of the answers.
    assert "088" not in " ".join(text for _, text in _all_texts(kb) if _.startswith("uwv."))
    assert "cent" not in " ".join(
        text for where, text in _all_texts(kb) if where.startswith("juridisch_loket.")
    )


def test_urgent_national_answers_do_not_wait_for_the_municipality(kb: KnowledgeBase) -> None:
    # A child or someone in a psychological crisis gets the numbers at once, without first
    # being asked where they live.
    for topic in ("kindertelefoon", "crisisdienst_ggz", "juridisch_loket", "belastingdienst"):
        assert not kb.entry(topic).depends_on_municipality(), topic
