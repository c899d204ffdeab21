"""chatpipe._lazy.lazy_attributes: names import on first use, are cached, and unknown ones raise."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types

import pytest
from chatpipe._lazy import lazy_attributes


def test_a_name_imports_on_first_use_and_is_cached() -> None:
    module = types.ModuleType("probe")
    targets = {"dumps": "json:dumps", "path": "os.path"}
    getattr_, dir_ = lazy_attributes(vars(module), targets, ["path", "dumps"])
    import json
    import os.path

    assert getattr_("dumps") is json.dumps and vars(module)["dumps"] is json.dumps
    assert getattr_("path") is os.path
    assert dir_() == ["dumps", "path"]
    with pytest.raises(AttributeError, match="module 'probe' has no attribute 'nope'"):
        getattr_("nope")


def test_chatpipe_http_loads_the_decoder_and_the_protocols_only_when_asked() -> None:
    code = textwrap.dedent(
        """
        import sys
        import chatpipe.http
        before = sorted(m for m in sys.modules if m.startswith("chatpipe.http."))
        chatpipe.http.SSEDecoder, chatpipe.http.TransportProtocol
        print(before, sorted(m for m in sys.modules if m.startswith("chatpipe.http.")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    eager = "'chatpipe.http._messages', 'chatpipe.http._safe_url'"
    assert out.strip() == f"[{eager}] [{eager}, 'chatpipe.http._sse', 'chatpipe.http._transport']"


@pytest.mark.parametrize(
    "name",
    [
        "chatpipe",
        "chatpipe.config",
        "chatpipe.http",
        "chatpipe.models",
        "chatpipe.openai_compat",
        "chatpipe.pipeline",
        "chatpipe.plugin",
    ],
)
def test_every_public_name_of_a_lazy_package_resolves(name: str) -> None:
    import importlib

    module = importlib.import_module(name)
    for public in module.__all__:
        assert getattr(module, public) is not None, public
    assert sorted(module.__all__) == [n for n in dir(module) if n in module.__all__]


def test_a_sync_call_imports_neither_asyncio_nor_the_batch_api() -> None:
    # asyncio costs ~30 ms to import and the batch API several: a sync first call needs neither
    code = textwrap.dedent(
        """
        import sys
        from chatpipe import Pipeline
        from chatpipe.testing import FakeResponse, FakeServer
        choice = {"index": 0, "message": {"role": "assistant", "content": "x"}, "finish_reason": "stop"}
        with FakeServer() as server:
            server.enqueue("POST /v1/chat/completions", FakeResponse.json({"choices": [choice]}))
            url, key = server.url + "/v1", "sk-lazy-0123456789"
            pipe = Pipeline("openai", "m", base_url=url, api_key=key, limits={"rpm": 60})
            assert pipe.complete([{"role": "user", "content": "Hi"}]).text == "x"
        print("asyncio" in sys.modules, "chatpipe.openai_compat._batch" in sys.modules)
        from chatpipe.plugin import OpenAIBatchAPI
        print("chatpipe.openai_compat._batch" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.split() == ["False", "False", "True"]


DEFERRED_FROM_A_BUILD = (
    # the HTTP library and the config loader: until the first request / a config file is read
    "httpx",
    "httpx2",
    "httpcore2",
    "chatpipe._transport",
    "cattrs",
    "yaml",
    "chatpipe.config._loader",
    "importlib.metadata",
    "asyncio",
    # logging until the first record or level check; random until a call waits for its limit
    "logging",
    "random",
    # streaming: with the first stream
    "chatpipe._streams",
    "chatpipe._accumulate",
    # what only some adapters and replies use: <think> splitting, prices and costs
    "chatpipe.openai_compat._think",
    "chatpipe._cost",
    # what Pipeline.check() and Pipeline.explain() return, an observed call's data, a plugin listing
    "chatpipe._outcomes",
    "chatpipe._callinfo",
    "chatpipe._listing",
    "chatpipe._batch_status",
    # error paths and stores: a did-you-mean, a reply id to invent, the key file
    "difflib",
    "uuid",
    "pathlib",
    "platformdirs",
)


def test_building_a_pipeline_imports_only_what_building_needs_and_the_rest_loads_on_use() -> None:
    # Importing chatpipe and building a pipeline (issue 19) must not load what only a call, a
    # stream, an error or a config file needs: each costs milliseconds per process. Then each
    # deferred part must load and work when it is used.
    code = textwrap.dedent(
        f"""
        import sys
        from chatpipe import Pipeline
        pipe = Pipeline("openai", "m", converters=["strict"], api_key="sk-lazy-0123456789")
        print(sorted(m for m in {DEFERRED_FROM_A_BUILD!r} if m in sys.modules))
        from chatpipe.errors import InvalidRequestError, PluginNotFoundError
        from chatpipe.testing import FakeResponse, FakeServer
        chunk = {{"choices": [{{"index": 0, "delta": {{"content": "streamed"}}, "finish_reason": "stop"}}]}}
        with FakeServer() as server:
            server.enqueue("POST /v1/chat/completions", FakeResponse.sse([chunk]))
            url = server.url + "/v1"
            pipe = Pipeline("openai", "m", converters=["strict"], api_key="sk-lazy-0123456789", base_url=url)
            with pipe.stream([{{"role": "user", "content": "Hi"}}]) as stream:
                print("".join(c.text for c in stream), stream.response.text)
        try:
            pipe.complete([{{"role": "usr", "content": "Hi"}}])
        except InvalidRequestError as exc:
            print("did you mean 'user'" in str(exc))
        try:
            Pipeline("opena", api_key="sk-lazy-0123456789")
        except PluginNotFoundError as exc:
            print("openai" in exc.suggestions)
        print([m in sys.modules for m in ("chatpipe._streams", "difflib")])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.splitlines() == ["[]", "streamed streamed", "True", "True", "[True, True]"]


def test_the_late_classes_are_frozen_attrs_classes_importable_where_they_were() -> None:
    import attrs
    from chatpipe import _observe, models, pipeline, provider, registry
    from chatpipe._observe import CallInfo
    from chatpipe.models import Cost, Prices
    from chatpipe.pipeline import CheckResult, Explanation
    from chatpipe.provider import BatchStatus
    from chatpipe.registry import PluginListing

    moved = [(models, Cost), (models, Prices), (pipeline, CheckResult), (pipeline, Explanation)]
    for module, cls in [*moved, (_observe, CallInfo), (registry, PluginListing), (provider, BatchStatus)]:
        assert attrs.has(cls) and getattr(module, cls.__name__) is cls and cls.__name__ in dir(module)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            cls.__new__(cls).__setattr__("model", 1)
        with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
            module.Nope  # noqa: B018
