"""The aspects a resident asks about right after an answer: "is dat gratis?", "en als dat niet
lukt?", "hoeveel krijg ik nou?", "moet ik mijn DigiD klaar houden?".

Such a follow-up is about the topic just answered, whatever the classifier makes of its few
words (the review found "is dat gratis?" after the Kindertelefoon answered with the
municipality's phone number). A knowledge entry holds one short fact per aspect
(``facts:`` in data/knowledge/<topic>.yml); this module only recognises the aspect in the
words. Rasa-free, so the knowledge base can validate its ``facts`` keys against it.
"""

import re

# Checked in this order: the more specific aspect first ("kan de huur niet betalen" is about
# money trouble, not about what something costs).
ASPECTS: dict[str, re.Pattern[str]] = {
    # "als ik de huur niet kan betalen", "geen geld meer voor eten"
    "niet_betalen": re.compile(
        r"\b(?:kan|kunnen|kon|lukt)\b[^?!]*\bniet\b[^?!]*\b(?:betalen|betaald|rondkomen)\b"
        r"|\bniet\b[^?!]*\b(?:kan|kunnen|kon)\s+(?:betalen|rondkomen)\b|\bg(?:ee)?n geld\b"
    ),
    # "blijft peel 6.1 dan betalen?", "wie betaalt dan mijn uitkering?"
    "wie_betaalt": re.compile(
        r"\bwie (?:betaalt|betalen)\b|\bblijf(?:t|en)\b[^?!]*\b(?:betalen|uitbetalen|doorbetalen)\b"
        r"|\bloopt\b[^?!]*\b(?:uitkering|bijstand)\b[^?!]*\bdoor\b"
    ),
    # "is dat gratis?", "kost dat geld?", "moet ik daar voor betalen?"
    "kosten": re.compile(
        r"\bgratis\b|\bkost(?:en|t)?\b|\bbetalen\b|\bbetaal\b|\beigen bijdrage\b|\bprijs\b"
    ),
    # "en als dat niet lukt?", "wat als ik het niet krijg?", "als het wordt afgewezen",
    # "en als dat te weinig is?"
    "afgewezen": re.compile(
        r"\bals\b[^?!]*\bniet\b[^?!]*\b(?:lukt|krijg\w*|doorgaat|toegekend|goedgekeurd)\b"
        r"|\bafgewezen\b|\bafwijzing\b|\bgeen recht\b"
        # "en als dat te weinig is om van te leven?"
        r"|\bte (?:weinig|laag)\b|\bniet genoeg\b"
    ),
    # "hoeveel krijg ik nou?", "om welk bedrag gaat het?"
    "bedrag": re.compile(
        r"\bhoeveel\b[^?!]*\b(?:krijg|krijgt|krijgen|is (?:het|dat)|geld|euro|bedraagt)\b"
        r"|\bwelk bedrag\b|\bwat krijg ik\b"
    ),
    # "moet ik mijn DigiD klaar houden?"
    "digid": re.compile(r"\bdigi[ -]?d\b"),
    # "is er iets zoals jeugdfonds sport of leergeld?", "ook voor zwemles?"
    "sport_cultuur": re.compile(
        r"\bjeugdfonds\w*|\bleergeld\b|\bsport\w*|\bzwemles\w*|\bvoetbal\w*|\bmuziekles\w*"
        r"|\bcontributie\w*|\bcultuur\w*"
    ),
    # "waar kan ik het anoniem melden?" (about the chat itself: actions/process_questions.py)
    "anoniem": re.compile(r"\banoniem\w*"),
    # "hij is niet gevaarlijk hoor, gewoon in de war" after the psychiatric crisis route
    "geen_gevaar": re.compile(
        r"\bniet (?:gevaarlijk|agressief|acuut)\b|\bgeen (?:direct |acuut )?gevaar\b"
    ),
    # "hoe lang duurt dat?", "wanneer hoor ik iets?"
    "hoe_lang": re.compile(r"\bhoe lang duurt\b|\bhoe snel\b|\bwanneer hoor ik\b"),
}

# A follow-up is short; a longer message tells a story of its own and is read as such.
MAX_FOLLOW_UP_WORDS = 14


def aspects_of(text: str) -> list[str]:
    """Every aspect the words touch, most specific first: the entry answers the first one
    it has a fact for ("kan ik het niet betalen" may be answered as kosten)."""
    lowered = text.lower()
    if len(lowered.split()) > MAX_FOLLOW_UP_WORDS:
        return []
    return [name for name, pattern in ASPECTS.items() if pattern.search(lowered)]
