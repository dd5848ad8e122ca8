"""Dutch names of weekdays and months, for texts residents and professionals read
("maandag 28 december"). Stdlib only: the answer parsers, the team calendar and the
notifications all write dates the same way."""

WEEKDAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTH_NAMES = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
