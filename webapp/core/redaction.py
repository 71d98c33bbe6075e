"""Secrets that travel in URLs stay out of the logs: the access log (uvicorn's, in the site's process) writes
``/password/reset/<redacted>`` and ``/shared/<redacted>/…`` instead of the tokens."""

from __future__ import annotations

import logging
import re

_TOKEN_PATHS = re.compile(r"(/password/reset/|/shared/)[A-Za-z0-9_\-]+")


def redact(text: str) -> str:
    return _TOKEN_PATHS.sub(r"\1<redacted>", text)


class TokenRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_token_redaction(logger_names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    """Idempotent: building several apps in one process adds the filter once per logger."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactingFilter) for f in logger.filters):
            logger.addFilter(TokenRedactingFilter())
