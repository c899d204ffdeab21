"""chatpipe's loggers: the ``chatpipe`` hierarchy, configured by nobody but the application.

The library only *emits* records; it attaches a :class:`logging.NullHandler` to the
``chatpipe`` logger and never sets a level or adds another handler (the CLI's ``--verbose``
does, through :func:`enable_debug_logging`). Records, at DEBUG unless noted:

* ``chatpipe.transport``: request sent (method, redacted URL, provider, attempt number),
  response status and request id, retry scheduled (INFO: wait and reason), stream
  opened/closed, connection-level failures;
* ``chatpipe.pipeline``: the request built (provider, model, converters, message count),
  errors raised for a vendor's answer.

Only redacted data is logged: URLs pass through ``safe_url`` and every message through
:func:`chatpipe.secrets.scrub` (at the call sites). Debug formatting is guarded by
``isEnabledFor`` so the hot path costs one level check when logging is off.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["LOGGER_NAME", "enable_debug_logging", "get_logger"]

LOGGER_NAME = "chatpipe"

logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    """The logger ``chatpipe.<name>`` (``name`` is a dotted suffix such as ``"transport"``)."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


def enable_debug_logging(stream: object = None) -> logging.Handler:
    """Send chatpipe's DEBUG records to ``stream`` (default ``sys.stderr``); returns the handler.

    For applications and the CLI's ``--verbose``; the library itself never calls it. Calling
    it again replaces the handler it added before instead of adding a second one.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, "_chatpipe_verbose", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._chatpipe_verbose = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler
