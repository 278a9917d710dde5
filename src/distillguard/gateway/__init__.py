"""The live gateway: an ASGI reverse proxy that acts on verdicts, and the LiteLLM guardrail."""
