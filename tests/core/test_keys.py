"""The key store (file mode, atomic writes, refusal of readable files) and key resolution order."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from chatpipe.errors import ConfigError
from chatpipe.keys import FoundKey, KeyStore, find_api_key, resolve_api_key
from chatpipe.secrets import Secret

POSIX = os.name == "posix"
posix_only = pytest.mark.skipif(not POSIX, reason="file modes are POSIX-only")
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys-dir" / "keys.yaml")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_path_is_in_config_dir(hermetic_environment):
    assert KeyStore().path == hermetic_environment / "keys.yaml"
    assert KeyStore(env={"CHATPIPE_CONFIG_DIR": "/x"}).path == Path("/x/keys.yaml")


def test_empty_store(store):
    assert store.get("openai") is None
    assert store.names() == []
    assert store.masked() == {}
    assert store.remove("openai") is False
    assert not store.path.exists()


def test_set_get_remove_list_masked(store):
    store.set("openai", KEY)
    store.set("claude", "  sk-ant-abcdefghijkl\n")  # surrounding whitespace removed
    assert store.get("openai") == Secret(KEY)
    assert isinstance(store.get("openai"), Secret)
    assert store.get("claude").reveal() == "sk-ant-abcdefghijkl"
    assert store.names() == ["claude", "openai"]
    assert store.masked() == {"claude": "sk-…ijkl", "openai": "sk-…cdef"}
    store.set("openai", "sk-replaced-000000")
    assert store.get("openai").reveal() == "sk-replaced-000000"
    assert store.remove("openai") is True
    assert store.remove("openai") is False
    assert store.names() == ["claude"]


def test_keys_that_yaml_would_misread_round_trip(store):
    for name, value in {"yes": "123456", "null": "true", "on": "0x1F", "a:b": "k#1"}.items():
        store.set(name, value)
        assert store.get(name).reveal() == value


@posix_only
def test_file_mode_0600_and_dir_0700(store):
    store.set("openai", KEY)
    assert mode(store.path) == 0o600
    assert mode(store.path.parent) == 0o700
    store.remove("openai")
    assert mode(store.path) == 0o600


@posix_only
def test_dir_created_0700_despite_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        store = KeyStore(tmp_path / "fresh" / "keys.yaml")
        store.set("openai", KEY)
    finally:
        os.umask(old)
    assert mode(store.path.parent) == 0o700
    assert mode(store.path) == 0o600


@posix_only
@pytest.mark.parametrize("bad_mode", [0o644, 0o640, 0o604, 0o660])
def test_readable_file_is_refused_with_chmod_hint(store, bad_mode):
    store.set("openai", KEY)
    store.path.chmod(bad_mode)
    for action in (lambda: store.get("openai"), store.names, store.masked, lambda: store.set("x", "abcdefgh")):
        with pytest.raises(ConfigError) as info:
            action()
        message = str(info.value)
        assert f"chmod 600 {store.path}" in message
        assert f"mode {bad_mode:03o}" in message
        assert KEY not in message
    store.path.chmod(0o600)
    assert store.get("openai") == Secret(KEY)


@posix_only
def test_resolution_does_not_skip_a_refused_store(store):
    store.set("openai", KEY)
    store.path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        resolve_api_key("openai", explicit=None, profile_name=None, profile_key="cfg", env_vars=(), store=store, env={})


def test_key_never_in_repr(store):
    store.set("openai", KEY)
    assert repr(store) == f"KeyStore({str(store.path)!r})"
    assert KEY not in repr(store)
    assert KEY not in repr(store.get("openai"))
    assert KEY not in str(store.get("openai"))


@pytest.mark.parametrize(
    ("content", "message", "path"),
    [
        (
            "openai: 12345678901\n",
            "must be a non-empty string; store it again with: chatpipe keys set openai",
            "openai",
        ),
        ("openai: ''\n", "must be a non-empty string", "openai"),
        ("openai: [sk-in-a-list-123456]\n", "must be a non-empty string", "openai"),
        ("- sk-in-a-list-123456\n", "must be a mapping of name to key", None),
        ("openai: sk-broken-123456: x\n", "is not valid YAML", None),
        ("openai: sk-a-123456\nopenai: sk-b-123456\n", "found duplicate key 'openai'", None),
        ("12: sk-a-123456\n", "every name in the key store must be a non-empty string", None),
    ],
)
def test_broken_store_errors_never_show_values(store, content, message, path):
    store.path.parent.mkdir(parents=True)
    store.path.write_text(content)
    store.path.chmod(0o600)
    with pytest.raises(ConfigError) as info:
        store.names()
    assert message in str(info.value)
    assert info.value.path == path
    assert info.value.file == str(store.path)
    for secret in ("12345678901", "sk-in-a-list-123456", "sk-broken-123456", "sk-a-123456", "sk-b-123456"):
        assert secret not in str(info.value)


def test_empty_file_is_empty_store(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text("# nothing\n")
    store.path.chmod(0o600)
    assert store.names() == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("openai", "", "is empty; nothing stored"),
        ("openai", "   \n", "is empty"),
        ("openai", 12345678, "must be a string, got int"),
        ("openai", None, "must be a string, got NoneType"),
        ("openai", "sk-with space-123", "contains whitespace or control characters"),
        ("openai", "sk-line\nbreak-123", "contains whitespace or control characters"),
        ("", KEY, "non-empty provider or profile name"),
        ("  ", KEY, "non-empty provider or profile name"),
    ],
)
def test_set_rejects_bad_input(store, name, value, message):
    with pytest.raises(ConfigError, match=message) as info:
        store.set(name, value)
    if isinstance(value, str) and value.strip():
        assert value not in str(info.value)
        assert value.strip() not in str(info.value)
    assert not store.path.exists()


def test_written_file_is_readable_yaml_with_header(store):
    store.set("openai", KEY)
    text = store.path.read_text()
    assert text.startswith("# chatpipe API keys")
    assert f"openai: {KEY}" in text


def test_no_temp_file_left_behind(store):
    store.set("openai", KEY)
    store.set("claude", KEY)
    store.remove("openai")
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["keys.yaml"]


def test_failed_replace_keeps_old_file_and_cleans_up(store, monkeypatch):
    store.set("openai", KEY)
    before = store.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        store.set("claude", "sk-new-key-123456")
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["keys.yaml"]


def test_failed_write_cleans_up(store, monkeypatch):
    store.set("openai", KEY)

    def broken_fsync(fd):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        store.set("claude", "sk-new-key-123456")
    monkeypatch.undo()
    assert store.names() == ["openai"]
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["keys.yaml"]


def test_concurrent_writers_lose_nothing(store):
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(10):
                KeyStore(store.path).set(f"w{worker}-{i}", f"sk-{worker}-{i}-abcdefgh")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.names()) == 80
    assert store.get("w7-9") == Secret("sk-7-9-abcdefgh")
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["keys.yaml"]


# --- resolution order -----------------------------------------------------------------------

ENV_VARS = ("OPENAI_API_KEY", "OPENAI_KEY_FALLBACK")


@pytest.fixture
def full(store):
    """A store holding keys for the profile and the provider."""
    store.set("work", "sk-stored-profile")
    store.set("openai", "sk-stored-provider")
    return store


def resolve(store, *, explicit=None, profile="work", config_key="sk-config", env=None):
    return resolve_api_key(
        "openai",
        explicit=explicit,
        profile_name=profile,
        profile_key=config_key,
        env_vars=ENV_VARS,
        store=store,
        env={"OPENAI_API_KEY": "sk-env-first", "OPENAI_KEY_FALLBACK": "sk-env-second"} if env is None else env,
    )


def test_explicit_wins(full):
    assert resolve(full, explicit="sk-explicit") == Secret("sk-explicit")
    assert resolve(full, explicit=Secret("sk-explicit-secret")) == Secret("sk-explicit-secret")


def test_stored_profile_key_beats_provider_key_and_env(full):
    assert resolve(full) == Secret("sk-stored-profile")


def test_stored_provider_key_when_no_profile_key(full):
    assert resolve(full, profile="other") == Secret("sk-stored-provider")
    assert resolve(full, profile=None) == Secret("sk-stored-provider")


def test_env_vars_in_order_when_nothing_stored(store):
    assert resolve(store) == Secret("sk-env-first")
    assert resolve(store, env={"OPENAI_KEY_FALLBACK": "sk-env-second"}) == Secret("sk-env-second")
    assert resolve(store, env={"OPENAI_API_KEY": "", "OPENAI_KEY_FALLBACK": "sk-env-second"}) == Secret("sk-env-second")


def test_config_key_last(store):
    assert resolve(store, env={}) == Secret("sk-config")
    assert resolve(None, env={}) == Secret("sk-config")


def test_nothing_anywhere(store):
    assert resolve(store, env={}, config_key=None) is None
    assert resolve(store, env={}, config_key="") is None


def test_empty_explicit_falls_through(full):
    assert resolve(full, explicit="") == Secret("sk-stored-profile")


def test_env_defaults_to_os_environ(store, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-os-environ")
    result = resolve_api_key(
        "openai", explicit=None, profile_name=None, profile_key=None, env_vars=ENV_VARS, store=store
    )
    assert result == Secret("sk-from-os-environ")


def found(store, **kwargs):
    explicit = kwargs.pop("explicit", None)
    env = kwargs.pop("env", {"OPENAI_API_KEY": "sk-env-first"})
    return find_api_key(
        "openai",
        explicit=explicit,
        profile_name="work",
        profile_key="sk-config",
        env_vars=ENV_VARS,
        store=store,
        env=env,
        **kwargs,
    )


def test_find_api_key_names_the_argument_and_the_store(full):
    assert found(full, explicit="sk-explicit") == FoundKey(Secret("sk-explicit"), "the api_key argument")
    assert found(full) == FoundKey(Secret("sk-stored-profile"), "the key stored for 'work' (chatpipe keys set work)")


def test_find_api_key_names_the_env_var_and_the_config_file(store):
    assert found(store) == FoundKey(Secret("sk-env-first"), "the environment variable OPENAI_API_KEY")
    assert found(store, env={}) == FoundKey(Secret("sk-config"), "the profile's api_key (chatpipe.yaml)")
    in_file = found(store, env={}, config_file="/srv/secret-dir/gateway.yaml")
    assert in_file == FoundKey(Secret("sk-config"), "the profile's api_key (gateway.yaml)")  # no directory
