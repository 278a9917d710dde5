"""A LiteLLM custom logging callback that appends each StandardLoggingPayload, exactly as
LiteLLM hands it over, as one JSON line to $CAPTURE_LITELLM_OUT; with $CAPTURE_SPEND_OUT
set instead, the LiteLLM_SpendLogs row LiteLLM's own code builds for its database
(get_logging_payload), its times as text, as a table export gives them."""

from __future__ import annotations

import json
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger


class PayloadDump(CustomLogger):  # type: ignore[misc]
    def _write(self, kwargs: dict[str, Any]) -> None:
        payload = kwargs.get("standard_logging_object")
        if payload is None or "CAPTURE_LITELLM_OUT" not in os.environ:
            return
        with open(os.environ["CAPTURE_LITELLM_OUT"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(payload, default=str) + "\n")

    def _write_spend_row(self, kwargs: dict[str, Any], response_obj: Any, times: Any) -> None:
        if "CAPTURE_SPEND_OUT" not in os.environ:
            return
        from litellm.proxy.spend_tracking.spend_tracking_utils import get_logging_payload

        start_time, end_time = times
        row = get_logging_payload(kwargs, response_obj, start_time, end_time)
        with open(os.environ["CAPTURE_SPEND_OUT"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(dict(row), default=str) + "\n")

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._write(kwargs)
        self._write_spend_row(kwargs, response_obj, (start_time, end_time))

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._write(kwargs)


proxy_handler_instance = PayloadDump()
