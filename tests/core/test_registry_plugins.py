"""chatpipe.registry: typed hook calls, check_pending on load, the chatpipe.plugins group, data providers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from chatpipe import Pipeline, hookimpl
from chatpipe._entrypoints import scan
from chatpipe.config import parse_config
from chatpipe.errors import ChatpipeError, PluginNotFoundError
from chatpipe.provider import ProviderInfo
from chatpipe.registry import PLUGIN_GROUP, PROVIDER_GROUP, Registry, data_provider, package_for
from chatpipe.testing.fake_server import FakeResponse, FakeServer

KEY = "sk-test-PLANTED-0123456789"

WATCHER = textwrap.dedent(
    """
    from chatpipe import hookimpl

    SEEN = []

    @hookimpl
    def chatpipe_before_send(provider, request):
        SEEN.append(("before_send", provider, request.url))

    @hookimpl
    def chatpipe_after_response(provider, response):
        SEEN.append(("after_response", provider, response.text))
    """
)


def install(site: Path, dist: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str]) -> None:
    """A distribution as an installer leaves it: ``*.dist-info`` metadata next to its modules."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    groups = [f"[{g}]\n" + "".join(f"{n} = {v}\n" for n, v in names.items()) for g, names in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(groups))
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("tests_plug_")]:
        del sys.modules[name]


def completion(text: str) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


# --- the chatpipe.plugins group ------------------------------------------------------------


def test_an_installed_plugin_named_in_the_config_observes_calls_and_others_stay_unimported(
    site: Path, fake_server: FakeServer
) -> None:
    install(
        site,
        "chatpipe-watch",
        {PLUGIN_GROUP: {"watch": "tests_plug_watch", "other": "tests_plug_other"}},
        {"tests_plug_watch": WATCHER, "tests_plug_other": "raise RuntimeError('must never be imported')\n"},
    )
    registry = Registry(entry_points=[*scan([PLUGIN_GROUP], paths=[str(site)]), *Registry().entry_points()])
    config = parse_config(
        f"plugins: [watch]\nprofiles:\n  p: {{provider: custom, base_url: '{fake_server.url}/v1', model: m}}\n"
    )
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("Hello!")))
    with Pipeline.from_config("p", config=config, registry=registry, api_key=KEY) as pipe:
        assert pipe.complete([{"role": "user", "content": "Hi"}]).text == "Hello!"
    seen = sys.modules["tests_plug_watch"].SEEN
    assert seen == [
        ("before_send", "custom", f"{fake_server.url}/v1/chat/completions"),
        ("after_response", "custom", "Hello!"),
    ]
    assert "tests_plug_other" not in sys.modules


def test_an_unknown_plugin_name_is_an_error_with_a_suggestion(site: Path) -> None:
    install(site, "chatpipe-watch", {PLUGIN_GROUP: {"watch": "tests_plug_watch"}}, {"tests_plug_watch": WATCHER})
    registry = Registry(entry_points=scan([PLUGIN_GROUP], paths=[str(site)]))
    with pytest.raises(PluginNotFoundError) as info:
        registry.load_plugins(["wacth"])
    assert "unknown plugin 'wacth'" in str(info.value) and "Did you mean 'watch'?" in str(info.value)
    with pytest.raises(PluginNotFoundError, match="pip install chatpipe-tracing"):
        registry.load_plugins(["tracing"])


def test_the_config_takes_a_plugins_list() -> None:
    assert parse_config("plugins: [a, b]").plugins == ("a", "b")
    assert parse_config("plugins: a").plugins == ("a",)
    assert parse_config("{}").plugins == ()


# --- typed hooks and check_pending ---------------------------------------------------------------


def test_typed_hook_methods_reach_registered_plugins() -> None:
    calls: list[tuple[str, object]] = []

    class Observer:
        @hookimpl
        def chatpipe_after_response(self, provider: str, response: object) -> None:
            calls.append((provider, response))

        @hookimpl
        def chatpipe_register_commands(self, cli: object) -> None:
            calls.append(("cli", cli))

    registry = Registry(entry_points=[])
    assert not registry.observes("chatpipe_after_response")
    registry.register(Observer())
    assert registry.observes("chatpipe_after_response") and not registry.observes("chatpipe_before_send")
    registry.after_response("p", "reply")  # type: ignore[arg-type]
    registry.register_commands("group")
    assert calls == [("p", "reply"), ("cli", "group")]


def test_core_code_calls_hooks_only_through_the_registry() -> None:
    core = Path(__file__).resolve().parents[2] / "core" / "chatpipe"
    callers = [p.name for p in core.rglob("*.py") if ".hook." in p.read_text() and p.name != "registry.py"]
    assert callers == []


def test_a_misspelt_hookimpl_fails_loading_with_the_plugin_and_the_fix(site: Path) -> None:
    source = "from chatpipe import hookimpl\n\n@hookimpl\ndef chatpipe_register_provider(register):\n    pass\n"
    install(site, "chatpipe-typo", {PROVIDER_GROUP: {"typo": "tests_plug_typo"}}, {"tests_plug_typo": source})
    registry = Registry(entry_points=scan([PROVIDER_GROUP], paths=[str(site)]))
    with pytest.raises(ChatpipeError) as info:
        registry.provider("typo")
    message = str(info.value)
    assert "'tests_plug_typo' (chatpipe-typo 1.0)" in message
    assert "'chatpipe_register_provider', which is not a chatpipe hook" in message
    assert "did you mean 'chatpipe_register_providers'?" in message
    assert "pip install --upgrade chatpipe-typo" in message
    assert registry.plugin_manager.get_plugins() == set(), "the broken plugin is not left registered"


def test_a_hookimpl_with_wrong_arguments_fails_registration() -> None:
    class Wrong:
        @hookimpl
        def chatpipe_before_send(self, provider: str, req: object) -> None: ...

    registry = Registry(entry_points=[])
    with pytest.raises(ChatpipeError, match=r"has an invalid hook implementation: .*req"):
        registry.register(Wrong())


# --- data providers and the catalogue --------------------------------------------------------


INFO = ProviderInfo(
    name="datavendor",
    package="chatpipe-datavendor",
    display_name="Data Vendor",
    default_base_url="https://api.datavendor.example/v1",
    api_key_env=("DATAVENDOR_API_KEY",),
    default_model="dv-1",
)


def test_a_provider_info_entry_point_is_the_openai_compatible_base_with_that_info() -> None:
    from chatpipe.openai_compat import OpenAICompatibleProvider

    registry = Registry(entry_points=[])
    registry.register(INFO)
    registry.register(INFO)  # registering the same data twice is not a clash
    cls = registry.provider("datavendor")
    assert cls is data_provider(INFO) and issubclass(cls, OpenAICompatibleProvider)
    assert cls.info is INFO and cls.__name__ == "DatavendorProvider"
    with pytest.raises(ChatpipeError, match="registered twice"):
        registry.register(attrs.evolve(INFO, default_model="other"))


def test_a_data_providers_info_is_read_without_importing_an_adapter(tmp_path: Path) -> None:
    install(
        tmp_path,
        "chatpipe-datavendor",
        {PROVIDER_GROUP: {"datavendor": "tests_plug_data:INFO"}},
        {
            "tests_plug_data": "from chatpipe.provider import ProviderInfo\n"
            "INFO = ProviderInfo(name='datavendor', package='chatpipe-datavendor', display_name='D',"
            " default_base_url='https://d.example/v1')\n"
        },
    )
    code = textwrap.dedent(
        f"""
        import sys
        from chatpipe._entrypoints import scan
        from chatpipe.registry import Registry
        registry = Registry(entry_points=scan(["chatpipe.providers"], paths=[{str(tmp_path)!r}]))
        print(registry.provider_info("datavendor").display_name, "chatpipe.openai_compat" in sys.modules)
        """
    )
    env = _env_with(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["D", "False"]


def _env_with(path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(path), os.environ.get("PYTHONPATH")]))}


def test_the_catalogue_names_first_party_packages() -> None:
    assert package_for("provider", "fireworks") == "chatpipe-fireworks"
    assert package_for("converter", "semi") == "chatpipe-semi-strict"
    assert package_for("provider", "nobody") is None
