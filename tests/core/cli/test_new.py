"""``chatpipe new provider|converter NAME`` generates a package that installs and passes its tests as generated.

Each generated package is built and installed offline (``pip install --no-index
--no-build-isolation --no-deps --target``) into a temporary directory, never into the
shared virtualenv; its own pytest then runs with that directory on ``PYTHONPATH``, so its
entry points are registered exactly as after a real install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import chatpipe as chatpipe_package
import pytest

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
RUFF = Path(sys.executable).parent / "ruff"


def chatpipe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHATPIPE, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def install_and_test(package: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """Install ``package`` into ``site`` (offline) and run its own test suite; returns the pytest run."""
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
         "--no-build-isolation", "--no-deps", "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "name", "group", "passed"),
    [("provider", "acme-ai", "chatpipe.providers", 7), ("converter", "drop-empty", "chatpipe.converters", 8)],
)
def test_generated_plugin_installs_and_passes_its_tests(
    tmp_path: Path, kind: str, name: str, group: str, passed: int
) -> None:
    result = chatpipe("new", kind, name, "--dir", "plugins", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    package = tmp_path / "plugins" / f"chatpipe-{name}"
    assert f"created {Path('plugins') / f'chatpipe-{name}'}" in result.stdout
    module = "chatpipe_" + name.replace("-", "_")
    meta = tomllib.loads((package / "pyproject.toml").read_text())
    assert meta["project"]["name"] == f"chatpipe-{name}"
    assert meta["project"]["entry-points"][group] == {name: module}
    assert (package / module / "py.typed").exists() and (package / "README.md").exists()

    lint = subprocess.run(
        [str(RUFF), "check", "--isolated", "--line-length", "120", str(package)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout

    core = Path(chatpipe_package.__file__).resolve().parents[1]
    types = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy-cache"), str(package)],
        cwd=tmp_path, env={**os.environ, "MYPYPATH": str(core)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert types.returncode == 0, types.stdout

    run = install_and_test(package, tmp_path / "site")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"{passed} passed" in run.stdout
    assert "conformance" in " ".join(p.name for p in (package / "tests").iterdir())


def test_provider_options_reach_the_package(tmp_path: Path) -> None:
    result = chatpipe(
        "new", "provider", "acme", "--base-url", "https://api.acme.com/v2/", "--model", "acme-1", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    source = (tmp_path / "chatpipe-acme" / "chatpipe_acme" / "__init__.py").read_text()
    assert 'default_base_url="https://api.acme.com/v2"' in source and 'default_model="acme-1"' in source
    assert 'api_key_env=("ACME_API_KEY",)' in source


@pytest.mark.parametrize("name", ["Acme", "acme_ai", "1acme", "acme--ai", "acme-", "ac me"])
def test_bad_names_are_refused_with_the_rule(tmp_path: Path, name: str) -> None:
    result = chatpipe("new", "provider", name, cwd=tmp_path)
    assert result.returncode == 2
    assert "lower-case letters and digits joined by hyphens" in result.stderr
    assert not any(tmp_path.iterdir())


def test_bad_base_url_is_refused(tmp_path: Path) -> None:
    result = chatpipe("new", "provider", "acme", "--base-url", 'https://x"; import os', cwd=tmp_path)
    assert result.returncode == 2 and "http(s) URL" in result.stderr


def test_an_existing_package_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "chatpipe-acme"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = chatpipe("new", "converter", "acme", cwd=tmp_path)
    assert result.returncode == 2 and "already exists" in result.stderr
    assert (target / "keep.txt").read_text() == "mine" and len(list(target.iterdir())) == 1


def test_help_lists_both_kinds(tmp_path: Path) -> None:
    result = chatpipe("new", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "provider" in result.stdout and "converter" in result.stdout


@pytest.mark.parametrize("kind", ["provider", "converter"])
def test_the_generated_module_imports_chatpipe_only_through_chatpipe_plugin(tmp_path: Path, kind: str) -> None:
    assert chatpipe("new", kind, "acme", cwd=tmp_path).returncode == 0
    source = (tmp_path / "chatpipe-acme" / "chatpipe_acme" / "__init__.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith(("from chatpipe", "import chatpipe"))]
    assert imports and all(line.startswith("from chatpipe.plugin import ") for line in imports), imports


@pytest.mark.parametrize("kind", ["provider", "converter"])
def test_the_next_steps_install_the_folder_where_this_chatpipe_is(tmp_path: Path, kind: str) -> None:
    result = chatpipe("new", kind, "acme", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "created chatpipe-acme",
        f"next, in the environment of this chatpipe {chatpipe_package.__version__} ({sys.executable}):",
        "  pip install -e 'chatpipe-acme[test]' && (cd chatpipe-acme && pytest)",
    ]
    # chatpipe is not on the package index: the way to get it elsewhere is from a clone's wheels.
    assert "not on the package index yet" in result.stdout
    assert "  python3 scripts/dev.py dist && pip install --find-links dist chatpipe" in lines


@pytest.mark.parametrize("kind", ["provider", "converter"])
def test_the_generated_readme_installs_from_its_folder_not_from_the_index(tmp_path: Path, kind: str) -> None:
    assert chatpipe("new", kind, "acme", cwd=tmp_path).returncode == 0
    readme = (tmp_path / "chatpipe-acme" / "README.md").read_text()
    assert "\npip install -e .  " in readme
    assert "pip install chatpipe chatpipe-acme" not in readme and "pypi.org" not in readme
    assert "not on the package index yet" in readme
    assert (
        "pip install --find-links dist chatpipe`" in readme and "`pip install chatpipe-acme` brings chatpipe" in readme
    )
