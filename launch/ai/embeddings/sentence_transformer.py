"""An optional provider running a local sentence-transformers model.

The package (and torch) is heavy, so it is an optional extra and imported only when this
provider is selected. Models are loaded strictly from the local Hugging Face cache or a
directory path: Launch never downloads weights at run time, so a missing model is a
clear configuration error at start-up rather than a surprise download in a worker.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

from launch.ai.embeddings.base import EmbeddingConfigurationError, Vector


class SentenceTransformersProvider:
    """Embeds with ``sentence_transformers.SentenceTransformer`` loaded offline.

    ``model`` is a model name already present in the local Hugging Face cache, or a path
    to a saved model. Vectors are L2-normalised. ``dimensions``, when given, must match
    the model's; when omitted it is read from the model.
    """

    def __init__(
        self,
        *,
        model: str,
        dimensions: int | None = None,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        if not model:
            raise EmbeddingConfigurationError(
                "EMBEDDING_MODEL must name a local sentence-transformers model or path"
            )
        # Both switches: HF_HUB_OFFLINE covers code paths that ignore local_files_only.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            module: Any = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise EmbeddingConfigurationError(
                "EMBEDDING_PROVIDER is 'sentence-transformers' but the sentence-transformers "
                "package is not installed (install the optional local-AI requirements)"
            ) from exc
        try:
            self._model = module.SentenceTransformer(model, device=device, local_files_only=True)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            raise EmbeddingConfigurationError(
                f"Could not load the sentence-transformers model {model!r} from local files "
                f"(models are never downloaded at run time): {exc}"
            ) from exc
        actual = int(self._model.get_sentence_embedding_dimension())
        if dimensions is not None and dimensions != actual:
            raise EmbeddingConfigurationError(
                f"The model {model!r} produces {actual}-dimensional vectors but "
                f"EMBEDDING_DIMENSIONS is {dimensions}"
            )
        self.model_name = model
        self.dimensions = actual
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        return self._encode(list(texts))

    def embed_query(self, text: str) -> Vector:
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> list[Vector]:
        array = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in array.tolist()]
