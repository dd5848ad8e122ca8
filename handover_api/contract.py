"""Fixed values from the Voordeur contract (copied: ``shared/`` may be absent at run time).

Source: ``shared/contract/life_domains.yml`` (version 1) and
``shared/contract/handover.schema.json``.
"""

from __future__ import annotations

import re

LIFE_DOMAIN_CODES: tuple[str, ...] = (
    "inkomen",
    "schulden",
    "werk_opleiding",
    "dagbesteding",
    "huisvesting",
    "huiselijke_relaties",
    "geestelijke_gezondheid",
    "lichamelijke_gezondheid",
    "middelengebruik",
    "adl",
    "sociaal_netwerk",
    "maatschappelijke_participatie",
    "justitie",
    "opvoeding",
)

CRISIS_TYPES: tuple[str, ...] = (
    "suicidaliteit",
    "huiselijk_geweld",
    "acute_dakloosheid",
    "medisch_spoed",
)

APPLICATION_TYPES: tuple[str, ...] = (
    "bijstand",
    "bijzondere_bijstand",
    "schuldhulp",
    "wmo",
    "minimaregeling",
)

REFERENCE_RE = re.compile(r"^VD-[A-Z0-9]{4}-[0-9]{2}$")
# Generated references avoid characters that are easily confused on the phone or on paper
# (0/O, 1/I/L, 5/S, 2/Z, 8/B).
REFERENCE_LETTERS = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_DIGITS = "0123456789"
