"""The offline default: no language model, so it quotes instead of writing.

It answers with the best retrieved passages, verbatim and numbered as the prompt numbers
them, and says plainly that it is quoting, not generating. That keeps a fresh install
(no API key, no network) useful and honest: every word of an answer is either this
fixed framing or a quotation the reader can check against its source.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from launch.ai.chunking import estimate_tokens
from launch.ai.llm.base import ChatTurn, Completion, Passage, StreamDone, StreamEvent, TextDelta

MODEL_NAME = "extractive"

INTRO = (
    "No language model is configured, so this answer is not generated: it quotes the "
    "passages from your documents that best match your question, numbered as sources."
)
NOTHING_FOUND = (
    "No language model is configured, so answers can only quote your documents, and no "
    "passage in them matches this question."
)
# Quotations longer than this are cut at a word boundary; the source is still cited.
QUOTE_CHARS = 600


class ExtractiveChatModel:
    """Quotes up to ``max_passages`` passages, best first, within ``max_tokens``."""

    model_name = MODEL_NAME

    def __init__(self, *, max_passages: int = 3) -> None:
        self.max_passages = max_passages

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        passages: Sequence[Passage] = (),
    ) -> Completion:
        text = "".join(self._pieces(passages, max_tokens))
        return Completion(
            text=text,
            prompt_tokens=sum(estimate_tokens(turn.content) for turn in messages),
            completion_tokens=estimate_tokens(text),
            model=MODEL_NAME,
            tokens_estimated=True,
        )

    def stream(
        self,
        messages: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        passages: Sequence[Passage] = (),
    ) -> Iterator[StreamEvent]:
        pieces = list(self._pieces(passages, max_tokens))
        for piece in pieces:
            yield TextDelta(piece)
        text = "".join(pieces)
        yield StreamDone(
            Completion(
                text=text,
                prompt_tokens=sum(estimate_tokens(turn.content) for turn in messages),
                completion_tokens=estimate_tokens(text),
                model=MODEL_NAME,
                tokens_estimated=True,
            )
        )

    def _pieces(self, passages: Sequence[Passage], max_tokens: int) -> Iterator[str]:
        if not passages:
            yield NOTHING_FOUND
            return
        yield INTRO
        budget = max_tokens - estimate_tokens(INTRO)
        for passage in list(passages)[: self.max_passages]:
            piece = f'\n\n[{passage.number}] "{_shorten(passage.content)}" ({passage.label})'
            cost = estimate_tokens(piece)
            if cost > budget:
                break
            budget -= cost
            yield piece


def _shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + " ..."
