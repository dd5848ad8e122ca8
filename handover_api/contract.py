"""Fixed values from the Voordeur contract (copied: ``shared/`` may be absent at run time).

Source: ``shared/contract/life_domains.yml`` (version 1) and
``shared/contract/handover.schema.json``.
"""

from __future__ import annotations

from common.references import PATTERN as REFERENCE_PATTERN

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

# The format and the alphabet of references live in common/references.py (one generator for
# the assistant and the API).
REFERENCE_RE = REFERENCE_PATTERN
