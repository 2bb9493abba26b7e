"""A local sentence-embedding model on ONNX Runtime: semantic search on CPU, no PyTorch.

``EMBEDDING_MODEL`` is a directory holding a transformer exported to ONNX and its
Hugging Face tokenizer, the layout of sentence-transformers models on the Hugging Face
hub (and of Optimum exports):

- ``model.onnx`` (or ``onnx/model.onnx``, or a quantised ``model_quantized.onnx`` /
  ``model_qint8_avx512.onnx``; the first found in that order, or name the file itself
  in ``EMBEDDING_MODEL``);
- ``tokenizer.json``;
- optionally ``1_Pooling/config.json`` (CLS or mean pooling; mean by default),
  ``sentence_bert_config.json`` (``max_seq_length``) and
  ``config_sentence_transformers.json`` (``prompts``: the "query: " style prefixes
  that e5/bge-style models expect).

Launch never downloads weights: the directory must be there (see docs/retrieval.md for
fetching one once). Requirements: ``requirements/ai-onnx.txt`` (onnxruntime,
tokenizers).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from launch.ai.embeddings.base import EmbeddingConfigurationError, Vector

MODEL_FILES = (
    "model.onnx",
    "onnx/model.onnx",
    "model_quantized.onnx",
    "onnx/model_quantized.onnx",
    "onnx/model_qint8_avx512.onnx",
)
DEFAULT_MAX_LENGTH = 512


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise EmbeddingConfigurationError(
            f"EMBEDDING_PROVIDER is 'onnx' but the {name} package is not installed "
            "(pip install -r requirements/ai-onnx.txt)"
        ) from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def locate(model: str) -> tuple[Path, Path]:
    """(model file, model directory) for `model`, a directory or an .onnx file."""
    if not model:
        raise EmbeddingConfigurationError(
            "EMBEDDING_MODEL must name a local directory holding model.onnx and tokenizer.json"
        )
    path = Path(model).expanduser()
    if path.is_file():
        directory = path.parent.parent if path.parent.name == "onnx" else path.parent
        return path, directory
    for name in MODEL_FILES:
        if (path / name).is_file():
            return path / name, path
    raise EmbeddingConfigurationError(
        f"No ONNX model in {model!r} (looked for {', '.join(MODEL_FILES)}); models are "
        "never downloaded at run time, see docs/retrieval.md to fetch one"
    )


class OnnxEmbeddingProvider:
    """Tokenise with `tokenizers`, run the encoder with `onnxruntime`, pool, L2-normalise.

    Thread-safe: an ONNX Runtime session may run concurrently, and the tokenizer is only
    read after construction.
    """

    def __init__(
        self,
        *,
        model: str,
        dimensions: int | None = None,
        batch_size: int = 32,
        threads: int = 0,
    ) -> None:
        numpy = _import("numpy")
        onnxruntime = _import("onnxruntime")
        tokenizers = _import("tokenizers")
        model_file, directory = locate(model)
        if not (directory / "tokenizer.json").is_file():
            raise EmbeddingConfigurationError(f"No tokenizer.json in {str(directory)!r}")
        self._np = numpy
        self.batch_size = max(1, batch_size)
        pooling = _read_json(directory / "1_Pooling" / "config.json")
        self._cls_pooling = bool(pooling.get("pooling_mode_cls_token"))
        prompts = _read_json(directory / "config_sentence_transformers.json").get("prompts") or {}
        self._query_prefix = str(prompts.get("query", "") or "")
        self._document_prefix = str(prompts.get("document", "") or prompts.get("passage", "") or "")
        max_length = int(
            _read_json(directory / "sentence_bert_config.json").get("max_seq_length")
            or DEFAULT_MAX_LENGTH
        )
        self._tokenizer = tokenizers.Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.no_padding()  # padded per batch below, to the batch's longest
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbeddingConfigurationError(
                f"Could not load the ONNX model {str(model_file)!r}: {exc}"
            ) from exc
        self._inputs = [i.name for i in self._session.get_inputs()]
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "sentence_embedding" if "sentence_embedding" in outputs else outputs[0]
        self.model_name = directory.name if model_file.parent == directory else model_file.stem
        actual = len(self._encode(["dimension probe"])[0])
        if dimensions is not None and dimensions != actual:
            raise EmbeddingConfigurationError(
                f"The model {model!r} produces {actual}-dimensional vectors but "
                f"EMBEDDING_DIMENSIONS is {dimensions}"
            )
        self.dimensions = actual

    def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        return self._encode([self._document_prefix + text for text in texts])

    def embed_query(self, text: str) -> Vector:
        return self._encode([self._query_prefix + text])[0]

    def _encode(self, texts: list[str]) -> list[Vector]:
        np = self._np
        encodings = self._tokenizer.encode_batch(texts)
        # Batches of similar lengths pad less: sort, run, then restore the input order.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors: list[Vector] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(1, *(len(encodings[i].ids) for i in batch))
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            types = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                encoding = encodings[i]
                n = len(encoding.ids)
                ids[row, :n] = encoding.ids
                mask[row, :n] = encoding.attention_mask
                types[row, :n] = encoding.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            (output,) = self._session.run(
                [self._output], {name: feed[name] for name in self._inputs if name in feed}
            )
            pooled = self._pool(np.asarray(output, dtype=np.float32), mask)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.maximum(norms, 1e-12)
            # Text with no tokens pools to zero, which has no cosine (pgvector gives NaN):
            # give it a fixed unit vector instead, as the hashing provider does.
            pooled[norms[:, 0] == 0, 0] = 1.0
            for row, i in enumerate(batch):
                vectors[i] = [float(x) for x in pooled[row]]
        return vectors

    def _pool(self, output: Any, mask: Any) -> Any:
        if output.ndim == 2:  # the model pools itself (a "sentence_embedding" output)
            return output
        if self._cls_pooling:
            return output[:, 0, :]
        weights = mask[:, :, None].astype(output.dtype)
        return (output * weights).sum(axis=1) / self._np.maximum(weights.sum(axis=1), 1.0)
