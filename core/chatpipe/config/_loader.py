"""Reading a config: YAML text → interpolation → structuring → :class:`~._schema.Config`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from ..errors import ConfigError
from ._discovery import find_config_file
from ._interpolate import interpolate
from ._problems import Problems, describe, raise_problems
from ._schema import Config
from ._structure import structure_config
from ._yaml import YamlSyntaxError, parse_yaml

__all__ = ["load_config", "parse_config"]


def parse_config(text: str, *, source: str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """The :class:`Config` that YAML ``text`` describes.

    ``source`` names the file in error messages and becomes ``Config.source``; ``env``
    (default ``os.environ``) is used for ``${VAR}`` interpolation. An empty document is an
    empty config. Every problem raises :class:`~chatpipe.errors.ConfigError` whose ``path``
    is the key path (``profiles.local.base_url``) and whose message says how to fix it.
    """
    env = os.environ if env is None else env
    try:
        data = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=source) from None
    if data is None:
        return Config(source=source)
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"the top level must be a mapping of settings (profiles, default, ...), got {describe(data)}",
            file=source,
        )
    deep = False
    try:
        config = structure_config(interpolate(data, env))
    except Problems as exc:
        raise_problems(exc.problems, file=source)
        raise  # pragma: no cover - raise_problems always raises for a non-empty list
    except RecursionError:  # YAML that parses, nested too deeply for the checks that walk it
        deep = True
    if deep:
        raise ConfigError("a value is nested too deeply (hundreds of levels); flatten it", file=source)
    return attrs.evolve(config, source=source)


def load_config(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    """The config at ``path``, or the one :func:`find_config_file` finds; empty if there is none.

    Raises :class:`~chatpipe.errors.ConfigError` for a missing explicit file, an unreadable
    or non-UTF-8 file, and anything :func:`parse_config` rejects.
    """
    found = find_config_file(path, env=env)
    if found is None:
        return Config()
    return parse_config(_read(found), source=str(found), env=env)


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror or exc}", file=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=str(path)) from None
