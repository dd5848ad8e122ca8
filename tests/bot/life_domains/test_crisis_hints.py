"""Indirect suicide signals in the real data/life_domains/crisis.yml: the `together` entries.

Giving things away is only a signal together with "I will not need them / not be there soon",
and the two often stand in different sentences; saying goodbye to everyone is one in any tense
and word order, but not when an ordinary reason (moving, a pension, a funeral) is given.
"""

from __future__ import annotations

import pytest

from bot.life_domains import get_detector


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # giving things away + not needing them / not being there soon
        (
            "ik heb mijn laptop en mijn hond weggegeven. heb ik binnenkort toch niet meer nodig",
            ("suicidaliteit", False),
        ),
        ("ik geef mijn spullen weg, waar ik heen ga heb ik niks nodig", ("suicidaliteit", False)),
        (
            "mijn sieraden heb ik aan mijn nichtje gegeven. straks ben ik er niet meer",
            ("suicidaliteit", False),
        ),
        (
            "mijn zus geeft al haar spullen weg, ze heeft ze straks niet meer nodig",
            ("suicidaliteit", True),
        ),
        # saying goodbye to everyone, any tense and word order
        ("ik neem afscheid van iedereen", ("suicidaliteit", False)),
        ("ik nam gisteren afscheid van mijn familie", ("suicidaliteit", False)),
        ("ik heb afscheid genomen van mijn kinderen", ("suicidaliteit", False)),
        ("mijn vriend neemt afscheid van al zijn vrienden", ("suicidaliteit", True)),
    ],
)
def test_indirect_signals(text: str, crisis: tuple[str, bool]) -> None:
    assert get_detector().detect(text).crisis == crisis


@pytest.mark.parametrize(
    "text",
    [
        "ik geef mijn oude fiets weg",
        "ik heb mijn oude kast weggegeven, die had ik niet meer nodig",
        "als ik werk vind heb ik de bijstand straks niet meer nodig",
        "we verhuizen naar een kleiner huis, ik heb veel weggegeven want dat hebben we straks "
        "niet meer nodig",
        "ik heb mijn hond aan de buren gegeven, straks ga ik op vakantie en heb ik hem niet nodig",
        "we hebben afscheid genomen van mijn vader in het uitvaartcentrum",
        "mijn collega gaat met pensioen en neemt afscheid van iedereen",
        "de buren gaan verhuizen en namen afscheid van iedereen in de straat",
        "ik ben er morgen niet, ik ben op vakantie",
        "mijn vader is er niet meer",
    ],
)
def test_near_misses(text: str) -> None:
    assert get_detector().detect(text).crisis is None
