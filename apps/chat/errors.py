"""How a chat-model failure reaches the client: 504, 429 with Retry-After, else 502.

The provider's own message names the upstream URL, so it goes to the log, not the client.
"""

from __future__ import annotations

import logging
import math

from rest_framework import status
from rest_framework.exceptions import APIException, Throttled

from launch.ai.llm import LLMError, LLMRateLimited, LLMTimeout

logger = logging.getLogger(__name__)

# When the model service gave no Retry-After, clients still need a number to wait.
DEFAULT_RETRY_AFTER = 5


class ModelTimeout(APIException):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = "The language model did not answer in time. Try again."
    default_code = "model_timeout"


class ModelUnavailable(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The language model failed to answer. Try again later."
    default_code = "model_unavailable"


def api_error(error: LLMError) -> APIException:
    """The API exception for a model failure (logged here with the provider's detail)."""
    logger.warning("chat model failed: %s", error)
    if isinstance(error, LLMTimeout):
        return ModelTimeout()
    if isinstance(error, LLMRateLimited):
        wait = error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER
        return Throttled(
            wait=max(1, math.ceil(wait)),
            detail="The language model is rate limiting requests.",
        )
    return ModelUnavailable()
