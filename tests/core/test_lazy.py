"""chatpipe._lazy: module attributes imported on first access, cached, listed by dir()."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import chatpipe
import chatpipe.config
import pytest

PACKAGE = "lazy_sample_pkg"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    root = tmp_path / PACKAGE
    root.mkdir()
    (root / "__init__.py").write_text(
        textwrap.dedent(
            """
            from chatpipe._lazy import lazy_attributes

            __all__ = ["absolute", "heavy", "plain"]
            plain = 1
            __getattr__, __dir__ = lazy_attributes(
                __name__, {"heavy": "._heavy", "absolute": "lazy_sample_pkg._heavy", "broken": "._heavy"}
            )
            """
        )
    )
    (root / "_heavy.py").write_text("heavy = 'loaded'\nabsolute = 'also loaded'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_a_lazy_name_is_imported_on_first_access_and_cached(package: ModuleType) -> None:
    assert f"{PACKAGE}._heavy" not in sys.modules
    assert package.heavy == "loaded"
    assert f"{PACKAGE}._heavy" in sys.modules
    assert vars(package)["heavy"] == "loaded"  # later reads skip __getattr__


def test_absolute_targets_and_from_imports_work(package: ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {PACKAGE} import absolute", namespace)
    assert namespace["absolute"] == "also loaded"


def test_unknown_names_raise_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match=f"module '{PACKAGE}' has no attribute 'missing'"):
        _ = package.missing
    with pytest.raises(AttributeError, match="broken"):
        _ = package.broken  # listed, but the target module has no attribute of that name


def test_dir_lists_the_public_names(package: ModuleType) -> None:
    assert dir(package) == ["absolute", "heavy", "plain"]


@pytest.mark.parametrize("module", [chatpipe, chatpipe.config], ids=lambda m: m.__name__)
def test_every_public_name_of_the_core_packages_resolves(module: ModuleType) -> None:
    assert dir(module) == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
