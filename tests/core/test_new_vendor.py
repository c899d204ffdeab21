"""Proof of "a vendor is its own folder": a new OpenAI-compatible vendor made of data only.

The test writes a package in a temporary folder (a hatchling ``pyproject.toml`` and a module
holding a ``ProviderInfo``), installs it into a temporary target directory (the shared venv is
not modified; hatchling comes from the venv, so nothing is downloaded), and runs chatpipe with
that directory on ``PYTHONPATH``: ``chatpipe plugins``, ``chatpipe explain`` and the generated
providers table all know the vendor, and nothing outside its folder was edited.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "chatpipe-acme"
version = "0.1.0"
dependencies = ["chatpipe>=0.1,<0.2"]

[project.entry-points."chatpipe.providers"]
acme = "chatpipe_acme:INFO"
"""

MODULE = '''\
"""chatpipe provider plugin ``acme``: Acme AI's OpenAI-compatible API, as data."""

from chatpipe.provider import Capabilities, ProviderInfo

INFO = ProviderInfo(
    name="acme",
    package="chatpipe-acme",
    display_name="Acme AI",
    default_base_url="https://api.acme.example/v1",
    api_key_env=("ACME_API_KEY",),
    capabilities=Capabilities(vision=True),
    default_model="acme-chat",
    description="Acme AI's OpenAI-compatible chat API.",
)
'''


def install_command(package: Path, target: Path) -> list[str]:
    """Install ``package`` into ``target`` without build isolation (the venv's hatchling builds it)."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed in this environment (a dev dependency)")
    options = ["--no-deps", "--no-build-isolation", "--target", str(target), str(package)]
    uv = shutil.which("uv")
    if uv:
        return [uv, "pip", "install", "-q", "--python", sys.executable, *options]
    if importlib.util.find_spec("pip") is None:
        pytest.skip("neither uv nor pip is available to install a package")
    return [sys.executable, "-m", "pip", "install", "-q", *options]


def run(code: str, site: Path) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_new_data_vendor_is_its_own_folder(tmp_path: Path) -> None:
    package = tmp_path / "acme"
    (package / "chatpipe_acme").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "README.md").write_text("# chatpipe-acme\n")
    (package / "chatpipe_acme" / "__init__.py").write_text(MODULE)
    site = tmp_path / "site"
    subprocess.run(install_command(package, site), check=True, capture_output=True, text=True)

    listing = run("from chatpipe.cli import main; main(['plugins'])", site)
    assert any(line.split()[:2] == ["acme", "chatpipe-acme"] for line in listing.splitlines()), listing

    explained = run("from chatpipe.cli import main; main(['explain', '-p', 'acme', '--json', 'Hi'])", site)
    assert "https://api.acme.example/v1/chat/completions" in explained and '"acme-chat"' in explained

    table = run(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT / "scripts")!r})
        import gen_docs
        print(gen_docs.providers_table([Path({str(package)!r})]))
        """,
        site,
    )
    assert (
        "| `acme` | [chatpipe-acme](vendors/acme.md) | Acme AI's OpenAI-compatible chat API. | `ACME_API_KEY` | none |"
        in table
    ), table
