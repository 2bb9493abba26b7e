"""A tiny sentence-embedding model in the ONNX layout Launch loads, built by the tests.

`build_model(directory)` writes `model.onnx` (a token-embedding lookup whose output is
the token states, as a real encoder's `last_hidden_state`) and `tokenizer.json` (a
lower-casing word-level tokenizer). Words of one concept share a direction, so the model
is "semantic" in the one way a test can check: synonyms that share no letters embed
close together. No weights are downloaded; the file is a few kilobytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CONCEPTS: dict[str, list[str]] = {
    "vehicle": ["car", "automobile", "vehicle", "sedan", "motorcar"],
    "ocean": ["ocean", "sea", "marine", "tide", "waves"],
    "money": ["invoice", "bill", "payment", "money", "price"],
    "sharing": ["share", "shared", "ownership", "arc", "together", "threads"],
    "animal": ["otter", "otters", "animal", "mammal"],
    "rock": ["basalt", "lava", "rock", "stone"],
}
DIMENSIONS = 8


def vocabulary() -> dict[str, int]:
    words = ["[PAD]", "[UNK]"] + [word for group in CONCEPTS.values() for word in group]
    return {word: index for index, word in enumerate(words)}


def embedding_table() -> np.ndarray:
    table = np.zeros((len(vocabulary()), DIMENSIONS), dtype=np.float32)
    table[1] = 0.05  # unknown words: a faint shared direction, never a zero vector
    for concept, (name, words) in enumerate(CONCEPTS.items()):
        for word in words:
            row = vocabulary()[word]
            table[row, concept] = 1.0
            table[row, DIMENSIONS - 1] = 0.1 * (len(name) % 3)  # concepts differ a little
    return table


def build_model(directory: Path, *, with_pooling_config: bool = True) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel

    directory.mkdir(parents=True, exist_ok=True)
    table = numpy_helper.from_array(embedding_table(), name="embeddings")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["embeddings", "input_ids"], ["last_hidden_state"])],
        "tiny-encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", DIMENSIONS]
            )
        ],
        initializer=[table],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(directory / "model.onnx"))

    tokenizer = Tokenizer(WordLevel(vocabulary(), unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    if with_pooling_config:
        (directory / "1_Pooling").mkdir(exist_ok=True)
        (directory / "1_Pooling" / "config.json").write_text(
            '{"pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true}'
        )
        (directory / "sentence_bert_config.json").write_text('{"max_seq_length": 64}')
    return directory
