"""A LiteLLM custom logging callback that appends each StandardLoggingPayload, exactly as
LiteLLM hands it over, as one JSON line to $CAPTURE_LITELLM_OUT."""

from __future__ import annotations

import json
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger


class PayloadDump(CustomLogger):  # type: ignore[misc]
    def _write(self, kwargs: dict[str, Any]) -> None:
        payload = kwargs.get("standard_logging_object")
        if payload is None:
            return
        with open(os.environ["CAPTURE_LITELLM_OUT"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(payload, default=str) + "\n")

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._write(kwargs)

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._write(kwargs)


proxy_handler_instance = PayloadDump()
