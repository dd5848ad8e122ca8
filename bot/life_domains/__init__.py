"""Life-domain (leefgebied), crisis and urgency detection for Voordeur, without Rasa.

Rule-based on purpose: what a resident says about their life must be found even in one short
SMS, with the same result every time, and a crisis must never depend on a trained model. The
detector works on a blank Dutch spaCy pipeline (tokenizer only) plus our own normalisation.

Patterns live in ``data/life_domains/patterns.yml`` (14 life domains) and
``data/life_domains/crisis.yml`` (crisis types, urgent signals, negation and third-party cues);
their small pattern language is documented at the top of patterns.yml.

``detect(text)`` is the pure entry point (tests, benchmark, no Rasa needed)::

    >>> detect("ik heb geen schulden maar slaap slecht").domains
    [('geestelijke_gezondheid', 'slaap slecht', 26, 38)]

Modules, in the order a text passes through them:

* ``normalise`` - text normalisation and Dutch morphology (NORM and LEMMA of a token);
* ``patterns``  - the pattern language, loading of data/life_domains/*.yml, spaCy matchers;
* ``words``     - the word sets of crisis.yml (negation, clauses, third parties, cues);
* ``context``   - negation, third-party, topic (film/news) and past/hypothetical rules;
* ``detector``  - ``LifeDomainDetector``, ``Detection``, ``get_detector``, ``detect``;
* ``nlu``       - what a detection adds to an NLU parse (entities, intent override).

The Rasa 3.6 component that uses them is ``bot.components.life_domains.LifeDomainExtractor``;
nothing in this package imports Rasa.
"""

from bot.life_domains.detector import Detection, LifeDomainDetector, detect, get_detector
from bot.life_domains.nlu import intent_override, merge_entities
from bot.life_domains.patterns import DEFAULT_CRISIS, DEFAULT_PATTERNS

__all__ = [
    "DEFAULT_CRISIS",
    "DEFAULT_PATTERNS",
    "Detection",
    "LifeDomainDetector",
    "detect",
    "get_detector",
    "intent_override",
    "merge_entities",
]
