"""chatpipe.plugin, the one module plugins import: its names, its docs, its cost, and the private-import ban."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import chatpipe._lazy
import chatpipe.plugin
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "chatpipe"
NOT_SOURCE = {"build", "dist", ".venv", "__pycache__"}


def _sources(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if not NOT_SOURCE.intersection(p.relative_to(package).parts))


def _private_imports(path: Path) -> list[str]:
    """Every ``chatpipe`` import in ``path`` reaching a module or name that starts with ``_`` (``line: module``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "chatpipe" and any(part.startswith("_") for part in parts[1:]):
                found.append(f"{node.lineno}: {module}")
    return found


def _private_modules() -> set[str]:
    """The outermost private module of every path in core (``chatpipe._transport``, ``chatpipe.cli._app``...)."""
    modules = set()
    for path in CORE.rglob("*.py"):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        for i, part in enumerate(parts):
            if part.startswith("_") and part != "__init__":
                modules.add(".".join(parts[: i + 1]))
                break
    return modules


def _packages() -> list[object]:
    params: list[object] = []
    for package in sorted([*ROOT.glob("plugins/*/"), *ROOT.glob("examples/*/")]):
        if not (package / "pyproject.toml").exists():
            continue
        params.append(pytest.param(package, id=str(package.relative_to(ROOT))))
    return params


# --- the module -------------------------------------------------------------------------------


def test_every_exported_name_resolves_to_its_home_object() -> None:
    from chatpipe import provider, secrets, vendor, wire

    assert sorted(chatpipe.plugin.__all__) == sorted({*chatpipe.plugin._LAZY, "hookimpl", "lazy_attributes", "wire"})
    for name in chatpipe.plugin.__all__:
        assert getattr(chatpipe.plugin, name) is not None, name
    assert chatpipe.plugin.Secret is secrets.Secret and chatpipe.plugin.Provider is provider.Provider
    assert chatpipe.plugin.decode_json is vendor.decode_json and chatpipe.plugin.wire is wire
    assert chatpipe.plugin.lazy_attributes is chatpipe._lazy.lazy_attributes
    assert dir(chatpipe.plugin) == sorted(chatpipe.plugin.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        chatpipe.plugin.nope  # noqa: B018


def test_importing_it_for_the_marker_loads_no_adapter_code() -> None:
    code = textwrap.dedent(
        """
        import sys
        from chatpipe.plugin import hookimpl
        heavy = ("chatpipe.provider", "chatpipe.openai_compat", "chatpipe.vendor", "chatpipe.pipeline", "httpx2")
        print(sorted(m for m in heavy if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_every_exported_name_is_documented_in_plugins_md() -> None:
    text = (ROOT / "docs" / "plugins.md").read_text()
    section = text.split("## The plugin API (`chatpipe.plugin`)", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section))
    exported = set(chatpipe.plugin.__all__)
    assert sorted(exported - documented) == [], "exported but missing from docs/plugins.md"
    assert sorted(documented - exported - {"chatpipe"}) == [], "documented but not exported"


# --- the private-import ban ---------------------------------------------------------------------


@pytest.mark.parametrize("package", _packages())
def test_plugins_and_examples_import_no_private_chatpipe_module(package: Path) -> None:
    assert [f"{path.relative_to(ROOT)}:{hit}" for path in _sources(package) for hit in _private_imports(path)] == []


def test_the_detector_sees_every_form_of_private_import(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "import chatpipe._markers\nfrom chatpipe import _markers\nfrom chatpipe.http._sse import SSEDecoder\n"
        "from chatpipe.plugin import hookimpl\nimport chatpipe\n"
    )
    expected = ["1: chatpipe._markers", "2: chatpipe._markers", "3: chatpipe.http._sse.SSEDecoder"]
    assert _private_imports(source) == expected


def test_the_lint_rule_bans_every_private_module_under_plugins_and_examples() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "TID251" in lint["select"]
    assert lint["per-file-ignores"]["!{plugins,examples}/**"] == ["TID251"]
    banned = set(lint["flake8-tidy-imports"]["banned-api"])
    private = _private_modules()
    assert sorted(private - banned) == [], "add these to banned-api in pyproject.toml"
    assert sorted(banned - private) == [], "these no longer exist: remove them from banned-api"


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff not installed")
@pytest.mark.parametrize(
    ("filename", "flagged"),
    [("plugins/acme/chatpipe_acme/__init__.py", True), ("examples/acme/x.py", True), ("core/chatpipe/x.py", False)],
)
def test_ruff_flags_a_private_import_only_outside_core(filename: str, flagged: bool) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff is not None
    source = "from chatpipe._markers import hookimpl\n\n__all__ = ['hookimpl']\n"
    result = subprocess.run(
        [ruff, "check", "--no-cache", "--stdin-filename", filename, "-"],
        input=source, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert ("TID251" in result.stdout) is flagged, result.stdout + result.stderr
