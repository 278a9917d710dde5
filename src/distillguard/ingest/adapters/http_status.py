"""HTTP status of a failed call from the error class an SDK or gateway reports.

OpenAI's Python SDK (and LiteLLM, which mirrors its exceptions) names each error status by
class; where a log keeps only the class, this gives the status back.
"""

from __future__ import annotations

import re
from typing import Any

ERROR_CLASS_STATUS = {
    "BadRequestError": 400,
    "ContextWindowExceededError": 400,
    "ContentPolicyViolationError": 400,
    "AuthenticationError": 401,
    "PermissionDeniedError": 403,
    "NotFoundError": 404,
    "Timeout": 408,
    "ConflictError": 409,
    "UnprocessableEntityError": 422,
    "RateLimitError": 429,
    "InternalServerError": 500,
    "BadGatewayError": 502,
    "ServiceUnavailableError": 503,
}
# The OpenAI SDK's APIStatusError message: "Error code: 500 - {...}".
_SDK_MESSAGE = re.compile(r"Error code: (\d{3})\b")


def status_from_code(code: Any) -> int | None:
    text = str(code) if code is not None else ""
    return int(text) if text.isdigit() and 100 <= int(text) <= 599 else None


def status_from_error(error_class: Any, message: Any = None) -> int | None:
    """The status an error message states, else the one its class stands for, else None."""
    found = _SDK_MESSAGE.search(message) if isinstance(message, str) else None
    if found:
        return int(found.group(1))
    return ERROR_CLASS_STATUS.get(str(error_class))
