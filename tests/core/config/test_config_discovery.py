"""Finding the config file, config_dir, and load_config."""

from __future__ import annotations

from pathlib import Path

import pytest
from chatpipe.config import Config, config_dir, find_config_file, load_config
from chatpipe.errors import ConfigError


@pytest.fixture
def places(tmp_path, monkeypatch):
    """A working dir and a user config dir, with chatpipe.yaml files in each; returns paths."""
    work = tmp_path / "work"
    user = tmp_path / "user"
    work.mkdir()
    user.mkdir()
    monkeypatch.chdir(work)
    env = {"CHATPIPE_CONFIG_DIR": str(user)}
    return work, user, env


def write(path: Path, text: str = "profiles: {p: {provider: x}}\n") -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_nothing_found(places):
    _, _, env = places
    assert find_config_file(env=env) is None
    assert load_config(env=env) == Config()


def test_user_config_dir(places):
    _, user, env = places
    found = write(user / "config.yaml")
    assert find_config_file(env=env) == found


def test_user_config_dir_yml(places):
    _, user, env = places
    found = write(user / "config.yml")
    assert find_config_file(env=env) == found


def test_cwd_beats_user_dir(places):
    work, user, env = places
    write(user / "config.yaml")
    found = write(work / "chatpipe.yaml")
    assert find_config_file(env=env) == Path.cwd() / "chatpipe.yaml" == found


def test_cwd_yml_and_yaml_preference(places):
    work, _, env = places
    yml = write(work / "chatpipe.yml")
    assert find_config_file(env=env) == yml
    yaml_file = write(work / "chatpipe.yaml")
    assert find_config_file(env=env) == yaml_file


def test_cwd_argument(places, tmp_path):
    _, _, env = places
    other = tmp_path / "other"
    other.mkdir()
    found = write(other / "chatpipe.yaml")
    assert find_config_file(env=env, cwd=other) == found


def test_env_var_beats_cwd(places, tmp_path):
    work, _, env = places
    write(work / "chatpipe.yaml")
    named = write(tmp_path / "named.yaml")
    assert find_config_file(env={**env, "CHATPIPE_CONFIG": str(named)}) == named


def test_explicit_beats_env_var(places, tmp_path):
    _, _, env = places
    named = write(tmp_path / "named.yaml")
    explicit = write(tmp_path / "explicit.yaml")
    assert find_config_file(explicit, env={**env, "CHATPIPE_CONFIG": str(named)}) == explicit
    assert find_config_file(str(explicit), env=env) == explicit


def test_explicit_must_exist(places, tmp_path):
    _, _, env = places
    with pytest.raises(ConfigError, match=r"the config file .*missing\.yaml does not exist; fix the path"):
        find_config_file(tmp_path / "missing.yaml", env=env)


def test_explicit_directory_is_refused(places, tmp_path):
    _, _, env = places
    with pytest.raises(ConfigError, match="is a directory, not a file"):
        find_config_file(tmp_path, env=env)


def test_env_var_must_exist(places, tmp_path):
    work, _, env = places
    write(work / "chatpipe.yaml")  # not used as a fallback: a wrong $CHATPIPE_CONFIG is an error
    with pytest.raises(ConfigError, match=r"\$CHATPIPE_CONFIG points to .*gone\.yaml does not exist"):
        find_config_file(env={**env, "CHATPIPE_CONFIG": str(tmp_path / "gone.yaml")})


def test_empty_env_var_is_ignored(places):
    _, user, env = places
    found = write(user / "config.yaml")
    assert find_config_file(env={**env, "CHATPIPE_CONFIG": ""}) == found


def test_config_dir_override_and_default():
    assert config_dir({"CHATPIPE_CONFIG_DIR": "/some/where"}) == Path("/some/where")
    default = config_dir({})
    assert default.name == "chatpipe"
    assert default.is_absolute()


def test_config_dir_reads_os_environ(hermetic_environment):
    assert config_dir() == hermetic_environment


def test_load_config_sets_source_and_interpolates(places):
    work, _, env = places
    path = write(work / "chatpipe.yaml", "profiles: {p: {provider: x, model: '${M}'}}\n")
    config = load_config(env={**env, "M": "m1"})
    assert config.source == str(path)
    assert config.profiles["p"].model == "m1"


def test_load_config_errors_name_the_file(places):
    work, _, env = places
    path = write(work / "chatpipe.yaml", "max_retries: lots\n")
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    assert info.value.file == str(path)
    assert str(info.value) == f"{path}: max_retries: expected an integer, got 'lots'"


def test_load_config_not_utf8(places):
    work, _, env = places
    (work / "chatpipe.yaml").write_bytes(b"default: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(env=env)


def test_load_config_utf8_bom(places):
    work, _, env = places
    (work / "chatpipe.yaml").write_bytes("\ufeffdefault: p\nprofiles: {p: {provider: x}}\n".encode())
    assert load_config(env=env).default == "p"


def test_load_config_unreadable(places):
    import os

    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("needs POSIX permissions and a non-root user")
    work, _, env = places
    path = write(work / "chatpipe.yaml")
    path.chmod(0)
    try:
        with pytest.raises(ConfigError, match="cannot read the config file"):
            load_config(env=env)
    finally:
        path.chmod(0o600)


def test_load_config_explicit_path(places, tmp_path):
    _, _, env = places
    path = write(tmp_path / "mine.yaml", "default: p\nprofiles: {p: {provider: x}}\n")
    assert load_config(path, env=env).source == str(path)
