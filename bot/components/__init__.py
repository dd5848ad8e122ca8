"""Custom Rasa NLU components for Voordeur.

Components are referenced from ``bot/config.yml`` by their full module path, e.g.
``bot.components.sentence_encoder.UniversalSentenceEncoderFeaturizer``. Nothing is
imported here on purpose: importing this package must stay cheap and must not pull
in Rasa/TensorFlow for code that only needs a sibling module.
"""
