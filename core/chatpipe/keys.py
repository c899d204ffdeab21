"""The API key store, and the order in which an API key is chosen.

Keys live in ``keys.yaml`` in the user's chatpipe directory
(:func:`chatpipe.config.config_dir`), apart from the config so the config can be shared. The
file is a YAML mapping of provider or profile name to key. It is written atomically with mode
``0600`` (the directory, when created, gets ``0700``), and on POSIX a key file readable by
group or others is refused with the ``chmod`` command that fixes it.

Resolution order (:func:`resolve_api_key`): explicit argument > stored key (by profile name,
then by provider name) > the vendor's environment variables, in order > the config's
``api_key``. Empty strings count as absent at every level. :func:`find_api_key` also says
where the key came from (a phrase such as "the environment variable OPENAI_API_KEY", never the
key), so a refused key's error can name its source.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from .errors import ConfigError
from .secrets import Secret, mask

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["KEYS_FILE", "FoundKey", "KeyStore", "find_api_key", "resolve_api_key"]

KEYS_FILE = "keys.yaml"
"""File name of the key store inside :func:`chatpipe.config.config_dir`."""

_POSIX = os.name == "posix"
_BAD_CHARS = r"[\s\x00-\x1f\x7f]"  # compiled when a key is stored, not on import
_HEADER = "# chatpipe API keys: keep private (mode 600). Manage with: chatpipe keys set/list/remove NAME\n"


class KeyStore:
    """API keys by provider or profile name, in a YAML file only the user can read.

    ``path`` defaults to ``config_dir(env)/keys.yaml``. Every method reads the file afresh;
    writes hold an exclusive lock on the directory (POSIX) so concurrent writers lose
    nothing, and replace the file atomically. The repr shows the path only.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> None:
        # pathlib and the config's directory rules load here: a pipeline given its key never reads the store
        from pathlib import Path

        from .config import config_dir

        self.path: Path = Path(path) if path is not None else config_dir(env) / KEYS_FILE

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    # --- reading -------------------------------------------------------------------------

    def get(self, name: str) -> Secret | None:
        """The key stored for ``name``, or ``None``."""
        value = self._read().get(name)
        return Secret(value) if value is not None else None

    def names(self) -> list[str]:
        """The names that have a stored key, sorted."""
        return sorted(self._read())

    def masked(self) -> dict[str, str]:
        """Each stored name with a masked form of its key (``sk-…a1b2``), for display."""
        return {name: mask(value) for name, value in sorted(self._read().items())}

    # --- writing -------------------------------------------------------------------------

    def set(self, name: str, value: str) -> None:
        """Store ``value`` as the key for ``name``, replacing any previous one.

        Surrounding whitespace is removed. An empty name, or a key that is empty, not a
        string or contains whitespace or control characters, raises
        :class:`~chatpipe.errors.ConfigError` (which never shows the key).
        """
        _check_name(name)
        if not isinstance(value, str):
            raise ConfigError(f"the key for {name!r} must be a string, got {type(value).__name__}")
        value = value.strip()
        if not value:
            raise ConfigError(f"the key for {name!r} is empty; nothing stored")
        if re.search(_BAD_CHARS, value):
            raise ConfigError(f"the key for {name!r} contains whitespace or control characters; copy the key again")
        with self._lock():
            data = self._read()
            data[name] = value
            self._write(data)

    def remove(self, name: str) -> bool:
        """Delete the key stored for ``name``; ``False`` when there was none."""
        if not self.path.exists():
            return False
        with self._lock():
            data = self._read()
            if name not in data:
                return False
            del data[name]
            self._write(data)
        return True

    # --- file handling ---------------------------------------------------------------------

    def _error(self, message: str, name: str | None = None) -> ConfigError:
        return ConfigError(message, path=name, file=str(self.path))

    def _read(self) -> dict[str, str]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise self._error(f"cannot read the key store: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as handle:
            if _POSIX:
                mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
                if mode & 0o077:
                    raise self._error(
                        f"the key store can be read by other users (mode {mode:03o}); "
                        f"restrict it with: chmod 600 {self.path}"
                    )
            raw = handle.read()
        from .config._yaml import YamlSyntaxError, parse_yaml

        try:
            data = parse_yaml(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise self._error("the key store is not UTF-8 text; fix or delete it") from None
        except YamlSyntaxError as exc:
            raise self._error(f"the key store is not valid YAML ({exc}); fix or delete it") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise self._error("the key store must be a mapping of name to key; fix or delete it")
        for name, value in data.items():
            if not isinstance(name, str) or not name:
                raise self._error("every name in the key store must be a non-empty string; fix the file")
            if not isinstance(value, str) or not value.strip():
                raise self._error(
                    f"the stored key must be a non-empty string; store it again with: chatpipe keys set {name}",
                    name,
                )
        return data

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Create the directory (0700) if needed and hold an exclusive lock on it (POSIX)."""
        directory = self.path.parent
        if not directory.exists():
            try:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                if _POSIX:
                    os.chmod(directory, 0o700)
            except OSError as exc:
                raise self._error(f"cannot create the directory {directory}: {exc.strerror or exc}") from None
        if not _POSIX:
            yield
            return
        import fcntl

        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, data: Mapping[str, str]) -> None:
        """Replace the file with ``data``, atomically (mode 0600)."""
        from ._files import write_atomically
        from .config._yaml import dump_yaml

        text = _HEADER + (dump_yaml(dict(data)) if data else "")
        write_atomically(self.path, text, private=True)


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("a key needs a non-empty provider or profile name")


def _given(value: str | Secret | None) -> Secret | None:
    if value is None:
        return None
    secret = value if isinstance(value, Secret) else Secret(value)
    return secret if secret.reveal().strip() else None


class FoundKey(NamedTuple):
    """An API key and where it came from: ``source`` is a phrase for messages, never the key."""

    key: Secret
    source: str


def find_api_key(
    provider_info_name: str,
    *,
    explicit: str | Secret | None,
    profile_name: str | None,
    profile_key: str | None,
    env_vars: Sequence[str],
    store: KeyStore | None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
    vendor_keys: bool = True,
) -> FoundKey | None:
    """The API key to use with its source, or ``None`` when there is none.

    Order: ``explicit`` > the key stored under ``profile_name``, then under
    ``provider_info_name`` > the first non-empty variable of ``env_vars`` in ``env`` (default
    ``os.environ``) > ``profile_key`` (the config's already-interpolated ``api_key``). Empty
    values are skipped. ``vendor_keys=False`` (a reverse proxy in front of the vendor) skips the
    vendor's own keys — the one stored under ``provider_info_name`` and ``env_vars`` — so the
    vendor's key is never sent to another host: a proxy gets only a key given for it. A store
    that cannot be read (bad permissions, broken file) raises
    :class:`~chatpipe.errors.ConfigError`; it is never silently skipped.

    The sources read "the api_key argument", "the key stored for 'NAME' (chatpipe keys set
    NAME)", "the environment variable VAR" and "the profile's api_key (FILE)", where FILE is
    the base name of ``config_file`` (default ``chatpipe.yaml``): a directory is never named,
    since the message may reach a gateway's clients.
    """
    found = _given(explicit)
    if found is not None:
        return FoundKey(found, "the api_key argument")
    if store is not None:
        names = (profile_name, provider_info_name) if vendor_keys else (profile_name,)
        for name in dict.fromkeys(n for n in names if n):
            stored = store.get(name)
            if stored:
                return FoundKey(stored, f"the key stored for {name!r} (chatpipe keys set {name})")
    env = os.environ if env is None else env
    for var in env_vars if vendor_keys else ():
        found = _given(env.get(var))
        if found is not None:
            return FoundKey(found, f"the environment variable {var}")
    found = _given(profile_key)
    if found is None:
        return None
    file = os.path.basename(config_file) if config_file else "chatpipe.yaml"
    return FoundKey(found, f"the profile's api_key ({file})")


def resolve_api_key(
    provider_info_name: str,
    *,
    explicit: str | Secret | None,
    profile_name: str | None,
    profile_key: str | None,
    env_vars: Sequence[str],
    store: KeyStore | None,
    env: Mapping[str, str] | None = None,
) -> Secret | None:
    """The API key :func:`find_api_key` chooses, without its source; ``None`` when there is none."""
    found = find_api_key(
        provider_info_name,
        explicit=explicit,
        profile_name=profile_name,
        profile_key=profile_key,
        env_vars=env_vars,
        store=store,
        env=env,
    )
    return None if found is None else found.key
