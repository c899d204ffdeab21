#!/usr/bin/env python3
"""Set up the workspace and run its jobs, with nothing but Python 3.11+ and pip.

    python3 scripts/dev.py          set up .venv and run the main job (a real local model answers)
    python3 scripts/dev.py test     set up .venv and run the whole test suite (lint, types, docs, tests);
                                    installs redis-server with apt-get first if missing (as root)
    python3 scripts/dev.py setup    only set up .venv (with the dev tools)
    python3 scripts/dev.py dist     build a wheel and an sdist of every workspace member into dist/

The repository is a uv workspace (``[tool.uv.workspace]`` in pyproject.toml). Setup is one
``uv sync --all-packages`` from the committed ``uv.lock``: the core, every plugin under
``plugins/`` and every example plugin under ``examples/``, editable, the default local model
(group ``local-model``) and, for ``test`` and ``setup``, the development tools (group ``dev``).
uv installs only what changed, so a second setup takes a second. uv itself comes from PATH
or, when missing or older than ``[tool.uv] required-version``, is installed once with pip
into the user's cache directory. With ``CI`` set the lock must be up to date (``--locked``);
elsewhere a changed pyproject (a new plugin) updates ``uv.lock``, to be committed with it.

``dist`` needs no .venv: one ``uv build --all-packages --no-sources`` (each member's sdist,
then its wheel built from that sdist, as an installer would) into ``dist/``, emptied of
earlier builds first; it fails unless every member produced both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
SCRIPTS = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""
BIN = VENV / SCRIPTS
DIST = ROOT / "dist"
PYTHON = BIN / f"python{EXE}"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
# pip's --target directory for uv when the machine has none (outside the tree, kept between clones).
BOOTSTRAP = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chatpipe-dev" / "uv"


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def version(text: str) -> tuple[int, ...]:
    """The first dotted number in ``text``: ``(0, 8)`` for ``">=0.8"``, ``(0, 9, 2)`` for ``"uv 0.9.2 (...)"``."""
    found = re.search(r"\d+(?:\.\d+)*", text)
    return tuple(int(part) for part in found.group().split(".")) if found else ()


def find_uv() -> Path:
    """A uv at least as new as ``required-version``: from PATH, else installed with pip (once)."""
    required = CONFIG["required-version"]
    for candidate in (shutil.which("uv"), BOOTSTRAP / SCRIPTS / f"uv{EXE}"):
        if candidate and Path(candidate).is_file():
            found = subprocess.run([str(candidate), "--version"], capture_output=True, text=True).stdout
            if found and version(found) >= version(required):
                return Path(candidate)
    say(f"installing uv{required} with pip into {BOOTSTRAP}")
    # -qq: errors only (not pip's advice about running as root or about unreachable extra indexes).
    pip = [sys.executable, "-m", "pip", "install", "-qq", "--disable-pip-version-check", "--upgrade"]
    run(*pip, "--target", BOOTSTRAP, f"uv{required}")
    return BOOTSTRAP / SCRIPTS / f"uv{EXE}"


def setup(*, dev: bool) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this script runs on whatever python3 the machine has)
        sys.exit("chatpipe needs Python 3.11 or newer; run this script with python3.11+")
    uv = find_uv()
    tools = " and the dev tools" if dev else ""
    say(f"uv sync: .venv with core, every plugin and example (editable), the local model{tools}")
    sync = ["sync", "--quiet", "--all-packages", "--python", sys.executable]
    if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
        sync.append("--locked")
    if not dev:
        # The main job needs no dev tools; --inexact keeps them if an earlier setup installed them.
        sync += ["--no-dev", "--inexact"]
    run(uv, *sync, env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)})


def members() -> list[Path]:
    """The workspace members (``[tool.uv.workspace] members``): core/, then plugins/*, then examples/*."""
    globs = CONFIG["workspace"]["members"]
    return [path for glob in globs for path in sorted(ROOT.glob(glob)) if (path / "pyproject.toml").is_file()]


def member_names() -> dict[str, str]:
    """Each member's distribution name by its folder relative to the root (``{"core": "chatpipe", ...}``)."""
    return {
        str(path.relative_to(ROOT).as_posix()): tomllib.loads((path / "pyproject.toml").read_text())["project"]["name"]
        for path in members()
    }


def artifact_stem(name: str) -> str:
    """How built files of distribution ``name`` begin: ``chatpipe_semi_strict-`` for ``chatpipe-semi-strict``."""
    return re.sub(r"[-_.]+", "_", name).lower() + "-"


_SUFFIX = {"wheel": ".whl", "sdist": ".tar.gz"}


def build_dists(out: Path = DIST, uv: Path | None = None) -> list[Path]:
    """Build a wheel and an sdist of every workspace member into ``out`` and return them, sorted.

    Earlier wheels and sdists in ``out`` are removed first, so it holds exactly one build of
    each member. ``--no-sources``: the build ignores ``[tool.uv.sources]``, as any builder
    outside this workspace would. Exits naming the members that produced no wheel or sdist.
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.whl"), *out.glob("*.tar.gz")]:
        old.unlink()
    build = ["build", "--quiet", "--all-packages", "--no-sources", "--python", sys.executable, "--out-dir", out]
    run(uv or find_uv(), *build)
    built = sorted([*out.glob("*.whl"), *out.glob("*.tar.gz")])
    missing = [
        f"{folder} ({name}: {kind})"
        for folder, name in member_names().items()
        for kind in ("wheel", "sdist")
        if not any(path.name.startswith(artifact_stem(name)) and path.name.endswith(_SUFFIX[kind]) for path in built)
    ]
    if missing:
        sys.exit(f"uv build made no {'; '.join(missing)}")
    return built


def dist() -> None:
    say(f"uv build: a wheel and an sdist of every workspace member into {DIST.relative_to(ROOT)}/")
    built = build_dists()
    for path in built:
        print(f"    {path.relative_to(ROOT)}  ({path.stat().st_size / 1000:.0f} kB)")
    say(f"{len(built)} files; install with: pip install --find-links {DIST.relative_to(ROOT)} chatpipe chatpipe-openai")


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


REDIS_HINT = "install it (apt-get install redis-server) or set CHATPIPE_REDIS_SERVER to a redis-server binary"


def ensure_redis_server() -> None:
    """Exit naming the fix unless the tests' redis-server exists: ``$CHATPIPE_REDIS_SERVER`` when
    set, else ``redis-server`` on PATH, installed from Debian's package when missing and this
    runs as root with apt-get (CI). The tests start their own servers, never the system one."""
    configured = os.environ.get("CHATPIPE_REDIS_SERVER")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            sys.exit(f"CHATPIPE_REDIS_SERVER={configured!r} is not an executable file: {REDIS_HINT}")
        return
    if shutil.which("redis-server"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        say("redis-server not found (the Redis tests need it): apt-get install redis-server")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"]
        if subprocess.run(install, env=env).returncode:
            say("apt-get install failed: apt-get update, then install once more")
            subprocess.run(["apt-get", "update", "-qq"], env=env)
            subprocess.run(install, env=env)
    if not shutil.which("redis-server"):
        sys.exit(f"redis-server not found; the tests need it: {REDIS_HINT}")


def test() -> None:
    ensure_redis_server()
    env = dict(os.environ)
    env.setdefault("CHATPIPE_SHARED_DIR", str(ROOT.parent / "shared"))
    say("ruff")
    run(BIN / "ruff", "check", "core", "plugins", "examples", "tests", "scripts", env=env)
    say("mypy --strict (core, every plugin and example plugin)")
    roots = members()
    packages = [init.parent.name for root in roots for init in sorted(root.glob("chatpipe*/__init__.py"))]
    mypy_env = {**env, "MYPYPATH": os.pathsep.join(str(p) for p in roots)}
    run(BIN / "mypy", *(arg for name in packages for arg in ("-p", name)), env=mypy_env)
    say("docs: python3 scripts/gen_docs.py --check, then mkdocs build --strict")
    run(PYTHON, ROOT / "scripts" / "gen_docs.py", "--check", env=env)
    with tempfile.TemporaryDirectory(prefix="chatpipe-site-") as site:
        run(BIN / "mkdocs", "build", "--strict", "--quiet", "--site-dir", site, env={**env, "NO_MKDOCS_2_WARNING": "1"})
    say("pytest")
    run(PYTHON, "-m", "pytest", *sys.argv[2:], env=env)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command not in {"run", "test", "setup", "dist"}:
        sys.exit(f"unknown command {command!r}; use: run (default), test, setup or dist")
    if command == "dist":
        dist()
        return
    setup(dev=command != "run")
    if command == "run":
        main_job()
    elif command == "test":
        test()


if __name__ == "__main__":
    main()
