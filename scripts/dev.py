#!/usr/bin/env python3
"""Set up the workspace and run its jobs, with nothing but Python 3.11+ and pip.

    python3 scripts/dev.py          set up .venv and run the main job (a real local model answers)
    python3 scripts/dev.py test     set up .venv and run the whole test suite (lint, types, docs, tests)
    python3 scripts/dev.py setup    only set up .venv (with the dev tools)

Setup creates ``.venv`` (if missing) and installs, editable, the core, every plugin under
``plugins/`` and every example plugin under ``examples/``, the packages of
``[tool.chatpipe-workspace] no-deps`` without their dependencies
(the default local model), and, for ``test`` and ``setup``, the development tools of
``[dependency-groups] dev``. It is idempotent and quick when nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".chatpipe-setup"


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def members() -> list[Path]:
    """core/ first, then every plugin directory, then every example plugin, each with a pyproject.toml."""
    plugins = sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))
    examples = sorted(p.parent for p in (ROOT / "examples").glob("*/pyproject.toml"))
    return [ROOT / "core", *plugins, *examples]


def workspace() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {
        "dev": list(data.get("dependency-groups", {}).get("dev", [])),
        "no-deps": list(data.get("tool", {}).get("chatpipe-workspace", {}).get("no-deps", [])),
    }


def fingerprint(paths: list[Path], dev: bool) -> str:
    digest = hashlib.sha256(b"dev" if dev else b"run")
    for path in [ROOT / "pyproject.toml", *(p / "pyproject.toml" for p in paths)]:
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pip(*args: str) -> None:
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args)


def setup(*, dev: bool) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this script runs on whatever python3 the machine has)
        sys.exit("chatpipe needs Python 3.11 or newer; run this script with python3.11+")
    if not PYTHON.exists():
        say(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True).create(VENV)
        pip("--upgrade", "pip")
    paths = members()
    stamps = {fingerprint(paths, dev=True)} | ({fingerprint(paths, dev=False)} if not dev else set())
    if STAMP.exists() and STAMP.read_text() in stamps:
        return
    extra = workspace()
    tools = extra["dev"] if dev else []
    say(f"installing core, {len(paths) - 1} plugins{' and the dev tools' if dev else ''} into .venv")
    pip(*(arg for path in paths for arg in ("-e", str(path))), *tools)
    if extra["no-deps"]:
        pip("--no-deps", *extra["no-deps"])
    STAMP.write_text(fingerprint(paths, dev=dev))


def main_job() -> None:
    """The main job: what chatpipe sends for a sample conversation, then a real model's answer."""
    say("chatpipe explain: the sample conversation through the strict converter, as an OpenAI request")
    run(
        BIN / "chatpipe",
        "explain",
        "--provider",
        "openai",
        "--converter",
        "strict",
        "--messages",
        ROOT / "examples" / "conversation.json",
    )
    say('chatpipe chat "Hello": no config, no key: the embedded local model (llama.cpp + SmolLM2) answers')
    run(BIN / "chatpipe", "chat", "Hello")


def test() -> None:
    env = dict(os.environ)
    env.setdefault("CHATPIPE_SHARED_DIR", str(ROOT.parent / "shared"))
    say("ruff")
    run(BIN / "ruff", "check", "core", "plugins", "examples", "tests", "scripts", env=env)
    say("mypy --strict (core, every plugin and example plugin)")
    inits = [*ROOT.glob("plugins/*/chatpipe_*/__init__.py"), *ROOT.glob("examples/*/chatpipe_*/__init__.py")]
    packages = ["chatpipe", *(p.parent.name for p in sorted(inits))]
    mypy_env = {**env, "MYPYPATH": os.pathsep.join(str(p) for p in members())}
    run(BIN / "mypy", *(arg for name in packages for arg in ("-p", name)), env=mypy_env)
    say("docs: python3 scripts/gen_docs.py --check, then mkdocs build --strict")
    run(PYTHON, ROOT / "scripts" / "gen_docs.py", "--check", env=env)
    with tempfile.TemporaryDirectory(prefix="chatpipe-site-") as site:
        run(BIN / "mkdocs", "build", "--strict", "--quiet", "--site-dir", site, env={**env, "NO_MKDOCS_2_WARNING": "1"})
    say("pytest")
    run(PYTHON, "-m", "pytest", *sys.argv[2:], env=env)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command not in {"run", "test", "setup"}:
        sys.exit(f"unknown command {command!r}; use: run (default), test or setup")
    setup(dev=command != "run")
    if command == "run":
        main_job()
    elif command == "test":
        test()


if __name__ == "__main__":
    main()
