"""Running the gateway under uvicorn: bind checks, workers, graceful shutdown."""

from __future__ import annotations

import contextlib
import copy
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ._settings import OPEN_GATEWAY_FIX, is_loopback, is_open

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["check_bind", "run"]

FACTORY = "chatpipe.gateway:create_app"


def check_bind(config: Config, host: str) -> None:
    """Refuse configurations that must not serve: no profiles, or an open gateway on a non-loopback host.

    An open gateway has no ``serve.keys`` and ``serve.allow_unauthenticated`` false
    (:func:`~._settings.is_open`).

    Raises :class:`~chatpipe.errors.ConfigError` naming the fix.
    """
    if not config.profiles:
        where = f" in {config.source}" if config.source else " (no config file was found)"
        raise ConfigError(
            f"the gateway has nothing to serve: no profiles are configured{where}; add profiles to "
            "chatpipe.yaml or pass --config FILE"
        )
    if not is_loopback(host) and is_open(config.serve):
        raise ConfigError(
            f"refusing to listen on {host!r} without gateway keys: anyone who can reach it could spend "
            f"your vendor credits. Bind to 127.0.0.1, or {OPEN_GATEWAY_FIX}",
            path="serve.keys",
            file=config.source,
        )


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging config plus the ``chatpipe`` loggers (gateway errors, retries) at ``level``."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["chatpipe"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


@contextlib.contextmanager
def _multiprocess_metrics(enabled: bool) -> Iterator[None]:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory for the workers (nothing when ``enabled`` is false).

    The workers are started after this, so prometheus_client reads it when they import it.
    """
    if not enabled:
        yield
        return
    from ._metrics import MULTIPROC_ENV

    previous = os.environ.get(MULTIPROC_ENV)
    with tempfile.TemporaryDirectory(prefix="chatpipe-metrics-") as directory:
        os.environ[MULTIPROC_ENV] = directory
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(MULTIPROC_ENV, None)
            else:
                os.environ[MULTIPROC_ENV] = previous


def run(
    config: Config,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = False,
    skip_broken: bool = False,
) -> None:
    """Serve ``config``'s profiles until SIGINT/SIGTERM (then finish in-flight requests).

    ``host``/``port`` default to ``serve.host``/``serve.port``. With ``workers > 1`` each
    worker process builds its own app from the same config file (``CHATPIPE_CONFIG`` is set
    to it for them). With metrics on, ``workers > 1`` also points ``PROMETHEUS_MULTIPROC_DIR``
    at a fresh temporary directory for this run (removed when the server stops), so a scrape of
    any worker sums every worker's metrics (see :mod:`._metrics`). Every profile is built
    before the server starts (a broken one stops it, unless ``skip_broken`` or
    ``serve.broken_profiles: skip``), and stderr names the profiles served and their URL.
    """
    import uvicorn

    host = host or config.serve.host
    port = port or config.serve.port
    check_bind(config, host)
    from ._metrics import metrics_enabled

    metrics = metrics_enabled(config)  # before any worker starts: metrics: true without the package
    options = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "log_config": log_config(log_level),
        "access_log": access_log,
        "lifespan": "on",
        "server_header": False,
        "timeout_graceful_shutdown": max(1, math.ceil(config.serve.shutdown_timeout)),
    }
    from ._app import SKIP_BROKEN_ENV, create_app, skips_broken_profiles
    from ._routing import Router

    if skip_broken:
        os.environ[SKIP_BROKEN_ENV] = "1"  # for this process and the workers, which read the config file
    if workers > 1:
        if config.source is None:
            raise ConfigError("--workers needs a config file that every worker can read; pass --config FILE")
        from ..config import CONFIG_ENV

        checked = Router(config)  # the workers build their own; this one stops a broken start once, here
        checked.load(skip_broken=skips_broken_profiles(config))
        _say_served(checked.profiles, host, port)
        os.environ[CONFIG_ENV] = str(Path(config.source).resolve())
        with _multiprocess_metrics(metrics):
            uvicorn.run(FACTORY, factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return
    app = create_app(config)
    _say_served(app.state.gateway.router.profiles, host, port)
    uvicorn.run(app, **options)  # type: ignore[arg-type]


def _say_served(profiles: list[str], host: str, port: int) -> None:
    """On stderr, before the server's own log: what is served, and where."""
    shown = f"[{host}]" if ":" in host else host
    count = f"{len(profiles)} profile{'' if len(profiles) == 1 else 's'}"
    sys.stderr.write(f"chatpipe gateway: {count} at http://{shown}:{port}/v1: {', '.join(profiles)}\n")
    sys.stderr.flush()
