"""The short reference a resident is told and reads aloud (VD-7K3P-92): one format and one
alphabet for both services. The assistant proposes one that is stable per handover (a retried
request gets the same reference); the handover API makes a random one when none is proposed.

Stdlib only: both the Rasa side and the handover API import it.
"""

import hashlib
import re
import secrets

# Characters that are easily confused on the phone or on paper are left out
# (0/O, 1/I/L, 5/S, 2/Z, 8/B).
LETTERS = "ACDEFGHJKMNPQRTUVWXY34679"
DIGITS = "0123456789"
PATTERN = re.compile(r"^VD-[A-Z0-9]{4}-[0-9]{2}$")


def reference_from(seed: str, attempt: int = 0) -> str:
    """A reference derived from ``seed``: the same seed and attempt give the same reference;
    the next attempt gives another (after a collision)."""
    digest = hashlib.sha256(f"{seed}|{attempt}".encode()).digest()
    letters = "".join(LETTERS[b % len(LETTERS)] for b in digest[:4])
    digits = "".join(DIGITS[b % len(DIGITS)] for b in digest[4:6])
    return f"VD-{letters}-{digits}"


def random_reference() -> str:
    letters = "".join(secrets.choice(LETTERS) for _ in range(4))
    digits = "".join(secrets.choice(DIGITS) for _ in range(2))
    return f"VD-{letters}-{digits}"
