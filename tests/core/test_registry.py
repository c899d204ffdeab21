"""chatpipe.registry: load-by-name, did-you-mean, listing from metadata only."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from chatpipe._entrypoints import EntryPoint, scan
from chatpipe.errors import ChatpipeError, PluginNotFoundError
from chatpipe.registry import CONVERTER_GROUP, PROVIDER_GROUP, Registry

PLUGIN_SOURCE = textwrap.dedent(
    """
    from chatpipe import hookimpl
    from chatpipe.converter import Converter
    from tests_fake_support import FakeProvider

    LOADED = True

    def upper(messages, context):
        return tuple(messages)

    @hookimpl
    def chatpipe_register_converters(register):
        register(Converter(name="shout", fn=upper, aliases=("yell",)))

    @hookimpl
    def chatpipe_register_providers(register):
        register(FakeProvider)
    """
)

SUPPORT_SOURCE = textwrap.dedent(
    """
    from chatpipe.provider import Provider, ProviderInfo

    class FakeProvider(Provider):
        info = ProviderInfo(name="fakevendor", package="chatpipe-fakevendor", display_name="Fake",
                            default_base_url="http://127.0.0.1:9")
        def build_chat(self, request): raise NotImplementedError
        def parse_chat(self, response): raise NotImplementedError
        def stream_parser(self, request): raise NotImplementedError
        def parse_error(self, response): raise NotImplementedError
    """
)


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "tests_fake_plugin.py").write_text(PLUGIN_SOURCE)
    (tmp_path / "tests_fake_other.py").write_text("raise RuntimeError('must never be imported')\n")
    (tmp_path / "tests_fake_support.py").write_text(SUPPORT_SOURCE)
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in ("tests_fake_plugin", "tests_fake_other", "tests_fake_support"):
        sys.modules.pop(name, None)


def entry(group: str, name: str, value: str) -> EntryPoint:
    return EntryPoint(group, name, value, "chatpipe-fake", "1.2.3")


@pytest.fixture
def registry(plugin_dir: Path) -> Registry:
    return Registry(
        entry_points=[
            entry(CONVERTER_GROUP, "shout", "tests_fake_plugin"),
            entry(CONVERTER_GROUP, "yell", "tests_fake_plugin"),
            entry(CONVERTER_GROUP, "whisper", "tests_fake_other"),
            entry(PROVIDER_GROUP, "fakevendor", "tests_fake_plugin"),
        ]
    )


def test_loads_only_the_named_entry_point(registry: Registry) -> None:
    converter = registry.converter("shout")
    assert converter.name == "shout"
    assert "tests_fake_plugin" in sys.modules
    assert "tests_fake_other" not in sys.modules


def test_alias_resolves_to_the_same_converter(registry: Registry) -> None:
    assert registry.converter("yell") is registry.converter("shout")


def test_provider_by_entry_point_name(registry: Registry) -> None:
    assert registry.provider("fakevendor").info.name == "fakevendor"


def test_unknown_name_suggests_and_names_the_package(registry: Registry) -> None:
    with pytest.raises(PluginNotFoundError) as info:
        registry.converter("shuot")
    message = str(info.value)
    assert "Did you mean 'shout'?" in message
    assert "pip install" not in message, "a likely typo gets the suggestion, not a package to install"
    with pytest.raises(PluginNotFoundError) as unknown:
        registry.converter("qqqq")
    assert "pip install chatpipe-qqqq." in str(unknown.value)


def test_unknown_first_party_name_names_its_package(registry: Registry) -> None:
    with pytest.raises(PluginNotFoundError) as info:
        registry.converter("semi")
    assert "pip install chatpipe-semi-strict" in str(info.value)
    with pytest.raises(PluginNotFoundError) as info:
        registry.provider("claude")
    assert "pip install chatpipe-claude" in str(info.value)


def test_reference_empty_id_means_none() -> None:
    from chatpipe import hookimpl
    from chatpipe.converter import Converter

    class NonePlugin:
        @hookimpl
        def chatpipe_register_converters(self, register: object) -> None:
            register(Converter(name="none", fn=lambda m, c: tuple(m)))  # type: ignore[operator]

    registry = Registry(entry_points=[])
    registry.register(NonePlugin())
    assert registry.converter("").name == "none"


def test_conflicting_registration_is_an_error(registry: Registry) -> None:
    from chatpipe import hookimpl
    from chatpipe.converter import Converter

    registry.converter("shout")

    class Clash:
        @hookimpl
        def chatpipe_register_converters(self, register: object) -> None:
            register(Converter(name="shout", fn=lambda m, c: ()))  # type: ignore[operator]

    with pytest.raises(ChatpipeError, match="registered twice"):
        registry.register(Clash())


def test_listing_groups_names_of_one_plugin_without_importing(registry: Registry) -> None:
    rows = registry.listing()
    assert "tests_fake_plugin" not in sys.modules
    converters = {row.names: row for row in rows if row.kind == "converter"}
    assert ("shout", "yell") in converters
    assert converters[("shout", "yell")].distribution == "chatpipe-fake"
    assert converters[("shout", "yell")].version == "1.2.3"


def test_scan_reads_dist_info_metadata(tmp_path: Path) -> None:
    dist = tmp_path / "chatpipe_demo-0.3.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: chatpipe-demo\nVersion: 0.3.0\n\nbody\n")
    (dist / "entry_points.txt").write_text(
        "[console_scripts]\ndemo = demo:main\n\n[chatpipe.providers]\ndemo = chatpipe_demo\n"
    )
    found = scan([PROVIDER_GROUP], paths=[str(tmp_path)])
    assert found == [EntryPoint(PROVIDER_GROUP, "demo", "chatpipe_demo", "chatpipe-demo", "0.3.0")]
