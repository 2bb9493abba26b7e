"""A dependency-free, deterministic embedding provider based on feature hashing.

What it is, honestly: a *lexical* model. Two texts are similar when they share words,
word pairs and word fragments; it knows nothing about synonyms or meaning ("car" and
"automobile" are unrelated to it). In exchange it needs no download, no network and no
GPU, gives identical vectors on every machine and every run, and is fast enough for
bulk ingestion in pure Python. It is the default so that Launch works offline and in
tests; configure the ``openai`` or ``sentence-transformers`` provider for semantic search.

Features (each hashed into ``dimensions`` buckets with a sign, so collisions cancel out
on average instead of piling up):

- word unigrams, weighted ``1 + ln(tf)`` (sublinear term frequency);
- character 3-5-grams of each word, padded as ``<word>``, so inflections and typos
  ("invoice" / "invoices" / "invoce") still overlap; a word's fragments share the word's
  weight so long words do not dominate;
- word bigrams ("new york"), so phrases count more than scattered words.

There is no corpus to learn inverse document frequencies from, so a short English
stopword list is down-weighted instead; other languages still work, just with common
words weighing more. The vector is L2-normalised, so cosine similarity is a dot product.

The hash is BLAKE2b (stable across processes and Python versions), never ``hash()``,
which is randomised per process. Changing anything here changes the vectors: bump the
version in ``model_name`` so the vector store re-indexes instead of mixing vectors.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from hashlib import blake2b

from launch.ai.embeddings.base import Vector

_TOKEN_RE = re.compile(r"\w+")

# Tokens longer than this are usually identifiers, hashes or base64 noise; their
# fragments past this length add cost without adding useful overlap.
_MAX_FRAGMENT_WORD = 32
_CHAR_NGRAM_SIZES = (3, 4, 5)
_CHAR_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.6
_STOPWORD_WEIGHT = 0.15

# fmt: off
_STOPWORDS = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
    "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
    "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same",
    "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves",
})
# fmt: on

_Features = tuple[tuple[int, float], ...]


class HashingEmbeddingProvider:
    """Feature-hashed word and character n-grams; see the module docstring for the trade-offs.

    Thread-safe: the only shared state is a bounded cache of per-word features, which
    is what makes it fast (natural text repeats its words constantly).
    """

    def __init__(self, dimensions: int, *, cache_size: int = 200_000) -> None:
        if dimensions < 8:
            raise ValueError("dimensions must be at least 8")
        self.dimensions = dimensions
        self.model_name = f"hashing-v1-{dimensions}"
        self._cache_size = cache_size
        self._word_cache: dict[str, _Features] = {}
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> Vector:
        return self._embed(text)

    def _bucket(self, feature: str) -> tuple[int, float]:
        value = int.from_bytes(blake2b(feature.encode(), digest_size=8).digest(), "little")
        return value % self.dimensions, (1.0 if value >> 63 else -1.0)

    def _word_features(self, word: str) -> _Features:
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        combined: dict[int, float] = {}
        bucket, sign = self._bucket("w\x1f" + word)
        combined[bucket] = sign
        padded = f"<{word[:_MAX_FRAGMENT_WORD]}>"
        grams = [padded[i : i + n] for n in _CHAR_NGRAM_SIZES for i in range(len(padded) - n + 1)]
        if grams:
            share = _CHAR_WEIGHT / math.sqrt(len(grams))
            for gram in grams:
                bucket, sign = self._bucket("c\x1f" + gram)
                combined[bucket] = combined.get(bucket, 0.0) + sign * share
        weight = _STOPWORD_WEIGHT if word in _STOPWORDS or len(word) == 1 else 1.0
        features = tuple((b, v * weight) for b, v in combined.items())
        with self._lock:
            if len(self._word_cache) >= self._cache_size:
                self._word_cache.clear()
            self._word_cache[word] = features
        return features

    def _embed(self, text: str) -> Vector:
        vector = [0.0] * self.dimensions
        tokens = _TOKEN_RE.findall(text.lower())
        if not tokens:
            # Punctuation-only or empty text still gets a unit vector (a zero vector
            # has no cosine similarity and pgvector would return NaN for it).
            stripped = text.strip()
            tokens = [stripped] if stripped else ["\x00empty"]
        for word, count in Counter(tokens).items():
            tf = 1.0 + math.log(count)
            for bucket, value in self._word_features(word):
                vector[bucket] += value * tf
        pairs = Counter(
            (a, b)
            for a, b in itertools.pairwise(tokens)
            if not (a in _STOPWORDS and b in _STOPWORDS)
        )
        for (first, second), count in pairs.items():
            bucket, sign = self._bucket(f"b\x1f{first}\x1f{second}")
            vector[bucket] += sign * _BIGRAM_WEIGHT * (1.0 + math.log(count))
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            # Every feature cancelled out (vanishingly rare); fall back to a fixed unit vector.
            vector[0] = 1.0
            return vector
        return [v / norm for v in vector]
