"""Where the config file and the key store live.

Search order of :func:`find_config_file` (the first hit wins):

1. the explicit path (``--config``, ``load_config(path)``): it must exist;
2. ``$CHATPIPE_CONFIG``: it must exist;
3. ``./chatpipe.yaml``, then ``./chatpipe.yml``;
4. ``config.yaml`` (then ``config.yml``) in :func:`config_dir`.

:func:`config_dir` is ``$CHATPIPE_CONFIG_DIR`` when set, else the platform's user config
directory for ``chatpipe`` (``~/.config/chatpipe`` on Linux).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError

__all__ = ["CONFIG_DIR_ENV", "CONFIG_ENV", "config_candidates", "config_dir", "find_config_file"]

CONFIG_ENV = "CHATPIPE_CONFIG"
"""Environment variable naming the config file."""

CONFIG_DIR_ENV = "CHATPIPE_CONFIG_DIR"
"""Environment variable overriding the user config directory (config.yaml and keys.yaml)."""

_LOCAL_NAMES = ("chatpipe.yaml", "chatpipe.yml")
_USER_NAMES = ("config.yaml", "config.yml")


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's chatpipe directory: ``$CHATPIPE_CONFIG_DIR``, else the platform config dir.

    ``env`` defaults to ``os.environ``. The directory is not created.
    """
    env = os.environ if env is None else env
    override = env.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("chatpipe", appauthor=False))


def _existing(path: Path, what: str) -> Path:
    if path.is_file():
        return path
    problem = "is a directory, not a file" if path.is_dir() else "does not exist"
    raise ConfigError(f"{what} {path} {problem}; fix the path")


def config_candidates(
    explicit: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> list[tuple[str, Path]]:
    """Where :func:`find_config_file` looks, in order: ``(what names the place, path)`` each.

    An explicit path, else ``$CHATPIPE_CONFIG``, is the only place when given; otherwise
    ``./chatpipe.yaml``, ``./chatpipe.yml``, then ``config.yaml`` and ``config.yml`` of
    :func:`config_dir`.
    """
    env = os.environ if env is None else env
    if explicit is not None:
        return [("--config", Path(explicit).expanduser())]
    named = env.get(CONFIG_ENV)
    if named:
        return [(f"${CONFIG_ENV}", Path(named).expanduser())]
    here = Path.cwd() if cwd is None else Path(cwd)
    directory = config_dir(env)
    return [("the current directory", here / name) for name in _LOCAL_NAMES] + [
        ("the user config directory", directory / name) for name in _USER_NAMES
    ]


def find_config_file(
    explicit: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Path | None:
    """The config file to use, or ``None`` when there is none (see the module docstring).

    An explicit path or ``$CHATPIPE_CONFIG`` that does not name an existing file raises
    :class:`~chatpipe.errors.ConfigError`; the other places are simply skipped when absent.
    ``env`` defaults to ``os.environ`` and ``cwd`` to the current directory.
    """
    places = config_candidates(explicit, env=env, cwd=cwd)
    named = places[0][0]
    if named == "--config":
        return _existing(places[0][1], "the config file")
    if named == f"${CONFIG_ENV}":
        return _existing(places[0][1], f"${CONFIG_ENV} points to")
    return next((path for _, path in places if path.is_file()), None)
