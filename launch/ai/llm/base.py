"""The chat-model interface, its value types and the errors every provider raises."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One message of a prompt, in the OpenAI chat format."""

    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved passage as the prompt shows it: ``[number]`` cites it in answers.

    ``label`` says where it comes from (``"report.pdf, page 3"``).
    """

    number: int
    content: str
    label: str


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished answer and what it cost; `tokens_estimated` when the service reported
    no count and the token figures are estimates."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    tokens_estimated: bool = False


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer as it arrives."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The last event of a stream: the whole answer with its usage."""

    completion: Completion


StreamEvent = TextDelta | StreamDone


@runtime_checkable
class ChatModel(Protocol):
    """Answers a list of chat turns, whole or streamed.

    ``passages`` are the sources already rendered into ``messages`` by
    :mod:`launch.ai.prompts`; a model reads them from the messages, while a provider
    without a model (``extractive``) answers from them directly. Implementations must be
    safe to share between threads: one instance is cached per process.
    """

    model_name: str

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float,
        passages: Sequence[Passage] = (),
    ) -> Completion: ...

    def stream(
        self,
        messages: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float,
        passages: Sequence[Passage] = (),
    ) -> Iterator[StreamEvent]:
        """Yield :class:`TextDelta` events, then exactly one :class:`StreamDone`."""
        ...


class LLMError(Exception):
    """Base class for every chat-model failure; the API answers 502 unless a subclass says."""

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status_code = status_code
        self.attempts = attempts


class LLMTimeout(LLMError):
    """The model did not answer (or stopped streaming) within the timeout: 504."""


class LLMRateLimited(LLMError):
    """The model service kept answering 429: the API answers 429 with ``Retry-After``."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = 429,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, status_code=status_code, attempts=attempts)
        self.retry_after = retry_after


class LLMUnavailable(LLMError):
    """The service kept failing with 5xx, could not be reached, or dropped a stream: 502."""


class LLMResponseError(LLMError):
    """The service answered, but not with something usable (4xx, malformed body): 502."""
