"""Chat-model providers behind one interface, chosen by settings.

Settings (all optional; read with defaults):

- ``LLM_PROVIDER``: ``"extractive"`` (default, offline: quotes the best passages, no
  model) or ``"openai"`` (any OpenAI-compatible ``/v1/chat/completions``).
- ``LLM_BASE_URL``, ``LLM_API_KEY``, ``LLM_MODEL``: the OpenAI-compatible endpoint.
- ``LLM_TIMEOUT`` (seconds, default 60; also the longest pause allowed mid-stream),
  ``LLM_MAX_RETRIES`` (retries after the first attempt on 429/5xx, default 2).
- ``LLM_CONTEXT_TOKENS`` (the model's context window, default 8192) and
  ``LLM_MAX_ANSWER_TOKENS`` (the answer's budget, default 1024): the prompt builder
  keeps the prompt within their difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

from launch.ai.cache import PerConfiguration
from launch.ai.llm.base import (
    ChatModel,
    ChatTurn,
    Completion,
    LLMError,
    LLMRateLimited,
    LLMResponseError,
    LLMTimeout,
    LLMUnavailable,
    Passage,
    StreamDone,
    StreamEvent,
    TextDelta,
)
from launch.ai.llm.extractive import ExtractiveChatModel
from launch.ai.llm.openai_compat import OpenAIChatModel
from launch.config import SettingsConfig

__all__ = [
    "ChatModel",
    "ChatTurn",
    "Completion",
    "ExtractiveChatModel",
    "LLMConfig",
    "LLMError",
    "LLMRateLimited",
    "LLMResponseError",
    "LLMTimeout",
    "LLMUnavailable",
    "OpenAIChatModel",
    "Passage",
    "StreamDone",
    "StreamEvent",
    "TextDelta",
    "build_chat_model",
    "get_chat_model",
]

PROVIDERS = ("extractive", "openai")


@dataclass(frozen=True)
class LLMConfig(SettingsConfig):
    """Everything that selects and configures a chat model; hashable, so it keys the cache."""

    PREFIX = "LLM_"

    provider: str
    model: str
    base_url: str
    api_key: str = field(repr=False)
    timeout: float
    max_retries: int
    context_tokens: int
    max_answer_tokens: int


def build_chat_model(config: LLMConfig) -> ChatModel:
    """Create a new chat model for ``config``; raises ImproperlyConfigured naming the setting."""
    name = config.provider.strip().lower()
    if name == "extractive":
        return ExtractiveChatModel()
    if name == "openai":
        if not config.base_url:
            raise ImproperlyConfigured("LLM_BASE_URL is required when LLM_PROVIDER='openai'")
        if not config.model:
            raise ImproperlyConfigured("LLM_MODEL is required when LLM_PROVIDER='openai'")
        return OpenAIChatModel(
            base_url=config.base_url,
            model=config.model,
            api_key=config.api_key or None,
            timeout=config.timeout,
            max_retries=config.max_retries,
        )
    raise ImproperlyConfigured(
        f"LLM_PROVIDER={config.provider!r} is not supported; choose one of {', '.join(PROVIDERS)}"
    )


_cache: PerConfiguration[LLMConfig, ChatModel] = PerConfiguration(build_chat_model)


def get_chat_model() -> ChatModel:
    """The process-wide chat model for the current settings (rebuilt when they change)."""
    return _cache.get(LLMConfig.from_settings())
