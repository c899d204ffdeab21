"""A picklable, key-free description of a pipeline, built on each Ray worker.

A :class:`~chatpipe.Pipeline` cannot be pickled (it holds modules, pools and locks), and a
pickled pipeline would carry its API key to every worker and into Ray's object store. A
:class:`PipelineSpec` carries what is needed to build the pipeline again instead: the profile
name and the config's YAML text *as written*, before ``${ENV}`` interpolation. Each worker
resolves the placeholders from its own environment, and finds a key the config leaves out in
its environment or key store, exactly as ``Pipeline.from_config`` does on one machine.

A spec refuses a config that holds a literal secret — an ``api_key`` (or ``api_keys``,
``password``, ``secret``, ``token``) value, an authentication header value, or a password in
a URL that is anything but a ``${NAME}`` reference — naming the key path and never the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import yaml
from chatpipe import Pipeline
from chatpipe.config import parse_config
from chatpipe.errors import ConfigError

__all__ = ["PipelineSpec"]

_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-(?P<default>.*))?\}", re.DOTALL)
_SECRET_KEYS = frozenset({"api_key", "api_keys", "password", "secret", "token"})
_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "password", "cookie")


def _is_reference(text: str) -> bool:
    """Whether ``text`` is one ``${NAME}`` reference whose default (if any) is empty or again one."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        return False
    default = match.group("default")
    return not default or _is_reference(default)


def _literal_secrets(value: Any, path: tuple[str, ...], secret: bool) -> list[str]:
    """The key paths under ``value`` that hold a literal secret (``secret``: ``value`` is one)."""
    found: list[str] = []
    if isinstance(value, Mapping):
        in_headers = bool(path) and path[-1] == "headers"
        for key, item in value.items():
            name = str(key).lower().replace("-", "_")
            is_secret = name in _SECRET_KEYS or (in_headers and any(w in name for w in _SECRET_HEADER_WORDS))
            found += _literal_secrets(item, (*path, str(key)), secret or is_secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _literal_secrets(item, (*path, str(index)), secret)
    elif isinstance(value, str):
        if secret and value and not _is_reference(value):
            found.append(".".join(path))
        elif "://" in value and not secret:
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            if password and not _is_reference(password):
                found.append(".".join(path))
    elif secret and value is not None:  # a number given as a key is still a literal key
        found.append(".".join(path))
    return found


def _check(text: str, profile: str | None, source: str | None) -> None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=source) from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("the top level must be a mapping of settings (profiles, default, ...)", file=source)
    literal = _literal_secrets(data, (), False)
    if literal:
        raise ConfigError(
            "holds a literal secret, and a PipelineSpec is pickled and sent to every Ray worker: write it as "
            "${SOME_VAR} and set SOME_VAR on the workers, or leave api_key out so each worker uses the "
            "provider's variable or its key store ('chatpipe keys set')",
            path=", ".join(literal),
            file=source,
        )
    profiles = data.get("profiles")
    if profile is not None and not (isinstance(profiles, Mapping) and profile in profiles):
        known = ", ".join(map(str, profiles)) if isinstance(profiles, Mapping) else "none"
        raise ConfigError(f"no profile {profile!r} in the config (profiles: {known})", file=source)


@attrs.frozen
class PipelineSpec:
    """What a Ray worker needs to build a pipeline: ``profile`` and the config's raw YAML text.

    ``config_text`` is kept as written (``${ENV}`` placeholders unresolved); ``source`` names
    the file in error messages. ``profile=None`` means the config's default profile. The
    constructor checks the YAML and the profile and raises :class:`~chatpipe.errors.ConfigError`
    for a literal secret (see the module docs); the full check of the config (interpolation,
    every setting) happens in :meth:`build`, with the environment of the process that builds.
    A spec pickles to its three fields and nothing else.
    """

    profile: str | None
    config_text: str = attrs.field(repr=False)
    source: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.profile is not None and (not isinstance(self.profile, str) or not self.profile):
            raise ConfigError(f"profile must be a profile name or None, got {self.profile!r}")
        if not isinstance(self.config_text, str):
            raise ConfigError(f"config_text must be the config's YAML text, got {type(self.config_text).__name__}")
        _check(self.config_text, self.profile, self.source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], profile: str | None = None) -> PipelineSpec:
        """The spec of ``profile`` in the config file at ``path``, read now (on the driver).

        The workers need not have the file: its text travels in the spec.
        """
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"cannot read the config file: {exc.strerror or exc}", file=os.fspath(path)) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", file=os.fspath(path)) from None
        return cls(profile, text, os.fspath(path))

    def build(self, *, env: Mapping[str, str] | None = None, **overrides: Any) -> Pipeline:
        """``Pipeline.from_config`` of the spec, ``${ENV}`` resolved from ``env`` (default ``os.environ``).

        Runs where it is called: on a worker, with that worker's environment and key store.
        ``overrides`` are those of :meth:`Pipeline.from_config <chatpipe.Pipeline.from_config>`.
        """
        config = parse_config(self.config_text, source=self.source, env=env)
        return Pipeline.from_config(self.profile, config=config, **overrides)
