"""chatpipe's loggers: the ``chatpipe`` hierarchy, configured by nobody but the application.

The library only *emits* records; it attaches a :class:`logging.NullHandler` to the
``chatpipe`` logger (when the first of its loggers is used: :mod:`logging` is imported only
then, see :class:`Logger`) and never sets a level or adds another handler (the CLI's ``--verbose``
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

import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

__all__ = ["DEBUG", "INFO", "LOGGER_NAME", "Logger", "enable_debug_logging", "get_logger"]

LOGGER_NAME = "chatpipe"
DEBUG = 10
"""``logging.DEBUG``, for ``isEnabledFor`` without importing :mod:`logging`."""
INFO = 20
"""``logging.INFO``."""


def _logging() -> ModuleType:
    """The :mod:`logging` module, imported on the first record or level check (~9 ms in a fresh process)."""
    import logging

    root = logging.getLogger(LOGGER_NAME)
    if not any(type(handler) is logging.NullHandler for handler in root.handlers):
        root.addHandler(logging.NullHandler())
    return logging


class Logger:
    """The logger ``chatpipe.<name>``, looked up — and :mod:`logging` imported — on its first use.

    A module's logger is made at its import; building a pipeline emits nothing, so it no longer
    imports :mod:`logging`. Has the methods of :class:`logging.Logger` that chatpipe calls;
    :attr:`logger` is the real one.
    """

    __slots__ = ("_logger", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        """The :class:`logging.Logger` named :attr:`name`."""
        logger = self._logger
        if logger is None:
            logger = self._logger = _logging().getLogger(self.name)
        return logger

    def isEnabledFor(self, level: int) -> bool:
        return (self._logger or self.logger).isEnabledFor(level)  # per call on hot paths: no property step

    def debug(self, message: str, *args: object) -> None:
        self.logger.debug(message, *args, stacklevel=2)

    def info(self, message: str, *args: object) -> None:
        self.logger.info(message, *args, stacklevel=2)

    def warning(self, message: str, *args: object) -> None:
        self.logger.warning(message, *args, stacklevel=2)

    def error(self, message: str, *args: object) -> None:
        self.logger.error(message, *args, stacklevel=2)

    def exception(self, message: str, *args: object, exc_info: BaseException | bool = True) -> None:
        """Log at ERROR with ``exc_info``: the exception being handled, unless one is given."""
        self.logger.exception(message, *args, exc_info=exc_info, stacklevel=2)

    def log(self, level: int, message: str, *args: object) -> None:
        self.logger.log(level, message, *args, stacklevel=2)

    def __repr__(self) -> str:
        return f"Logger({self.name!r})"


def get_logger(name: str) -> Logger:
    """The logger ``chatpipe.<name>`` (``name`` is a dotted suffix such as ``"transport"``)."""
    return Logger(f"{LOGGER_NAME}.{name}")


def enable_debug_logging(stream: object = None) -> logging.Handler:
    """Send chatpipe's DEBUG records to ``stream`` (default ``sys.stderr``); returns the handler.

    For applications and the CLI's ``--verbose``; the library itself never calls it. Calling
    it again replaces the handler it added before instead of adding a second one.
    """
    import logging

    _logging()
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
