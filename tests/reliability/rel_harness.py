"""The reliability harness: provider families, call modes, fast retries (helpers, no fixtures).

A *family* is a wire format (OpenAI-compatible, Claude, Cohere...) described by a
:class:`~chatpipe.testing.conformance.VendorSimulator` plus the few facts the fault matrix
needs. Plugging a family in = appending a :class:`Family` to :data:`FAMILIES`; every test in
this directory that takes the ``family`` fixture then runs for it.

A *mode* is how a call is made: ``sync`` / ``async`` (complete / acomplete) and
``sync-stream`` / ``async-stream`` (stream / astream, collected). :func:`call` runs one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import sys
from pathlib import Path
from typing import Any

from chatpipe import Pipeline
from chatpipe._accumulate import StreamAccumulator
from chatpipe._transport import RetryPolicy, Transport
from chatpipe.http import SSEEvent
from chatpipe.models import ChatRequest, ChatResponse
from chatpipe.provider import Provider
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply, VendorSimulator

KEY = "sk-reliability-PLANTED-0123456789abcdef"
"""A recognisable key planted in every pipeline here; it must never show up anywhere."""

TEXT = "It is sunny in Paris today, with a light breeze."
"""The reply text every scripted success carries."""

MODES = ("sync", "async", "sync-stream", "async-stream")
CONVERSATION = [{"role": "user", "content": "What is the weather in Paris?"}]
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NO_PROXY")


@dataclasses.dataclass(frozen=True)
class Family:
    """One wire format under test.

    ``provider`` is the registered provider name; ``simulator`` gives vendor-shaped replies;
    ``terminator`` is a byte string found only in the vendor's end-of-stream event
    (``[DONE]``, ``message_stop``, ``message-end``); ``terminator_required`` says whether a
    stream that ends cleanly without it is an error (True) or a complete reply (False, e.g.
    OpenAI-compatible servers such as Perplexity omit ``[DONE]``).
    """

    name: str
    provider: str
    simulator: VendorSimulator
    terminator_required: bool = False
    terminator: bytes = b"[DONE]"

    @property
    def route(self) -> str:
        """The ``"METHOD /path"`` the adapter posts chats to."""
        return self.simulator.chat_route

    def ok(self, text: str = TEXT) -> FakeResponse:
        """A successful non-streaming reply carrying ``text``."""
        return self.simulator.reply(Reply(text=text))

    def ok_stream(self, text: str = TEXT) -> FakeResponse:
        """A successful streamed reply carrying ``text``."""
        return self.simulator.stream(Reply(text=text))

    def ok_for(self, mode: str, text: str = TEXT) -> FakeResponse:
        """The success reply a call in ``mode`` expects."""
        return self.ok_stream(text) if mode.endswith("stream") else self.ok(text)

    def first_text_event(self, response: FakeResponse) -> int:
        """The position of the first stream chunk that carries reply text."""
        return next(i for i, chunk in enumerate(response.chunks) if TEXT[:5].encode() in chunk)

    def error(self, status: int, headers: dict[str, str] | None = None) -> FakeResponse:
        """An error reply in the vendor's envelope, with exactly ``headers`` as retry hints."""
        base = self.simulator.error(status)
        kept = tuple((k, v) for k, v in base.headers if k.lower() not in ("retry-after", "retry-after-ms"))
        extra = tuple((k.lower(), v) for k, v in (headers or {}).items())
        return dataclasses.replace(base, headers=kept + extra)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


FAMILIES: list[Family] = [
    Family("openai-compatible/custom", "custom", OpenAISimulator(provider="custom")),
    Family("openai-compatible/openai", "openai", OpenAISimulator(provider="openai")),
]
"""Every family the matrix runs. Claude / Cohere entries are appended when their plugins
provide a simulator (see the end of this module)."""


TESTS = Path(__file__).resolve().parents[1]


def _add_plugin_families() -> None:
    """Claude and Cohere, when their plugin is installed: their simulators live in their
    conformance tests (``tests/plugins/<name>/test_<name>_conformance.py``), loaded by path."""
    for name, attribute, end in (
        ("claude", "ClaudeSimulator", b"message_stop"),
        ("cohere", "CohereSimulator", b"message-end"),
    ):
        source = TESTS / "plugins" / name / f"test_{name}_conformance.py"
        if not _installed(f"chatpipe_{name}") or not source.is_file():
            continue
        spec = importlib.util.spec_from_file_location(f"rel_simulators_{name}", source)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        simulator = getattr(module, attribute, None)
        if simulator is not None:
            FAMILIES.append(Family(name, name, simulator(), terminator_required=True, terminator=end))


_add_plugin_families()


class Sleeps:
    """Records the waits the transport asked for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_pipeline(
    family: Family,
    base: str,
    *,
    sleeps: Sleeps | None = None,
    max_retries: int = 2,
    connect: float = 5.0,
    read: float = 10.0,
    **kwargs: Any,
) -> Pipeline:
    """A pipeline of ``family`` pointed at the server base URL ``base``, with the planted key.

    With ``sleeps``, retries wait through the recorder (no real sleeping, no jitter); the
    transport is otherwise the one the pipeline would build itself.
    """
    sim = family.simulator
    options: dict[str, Any] = {
        "model": sim.model,
        "base_url": sim.base_url(base),
        "api_key": KEY,
        "converters": list(sim.converters),
        "max_retries": max_retries,
        "timeout": (connect, read),
        **sim.pipeline_kwargs(),
        **kwargs,
    }
    pipe = Pipeline(family.provider, **options)
    if sleeps is not None:
        own = pipe.transport  # the one the pipeline builds from its settings: keep its timeouts and limits
        assert isinstance(own, Transport)
        pipe._transport = Transport(
            timeouts=own.timeouts,
            limits=own.limits,
            retry=RetryPolicy(max_retries=max_retries, jitter=0.0),
            provider=pipe.provider_class.info.name,
            secrets=pipe.adapter.secrets(),
            should_retry=pipe.adapter.should_retry,
            sleep=sleeps.sleep,
            async_sleep=sleeps.async_sleep,
        )
    return pipe


def call(pipe: Pipeline, mode: str, messages: list[dict[str, Any]] | None = None, **params: Any) -> ChatResponse:
    """Make one call in ``mode`` and return the assembled reply (errors propagate)."""
    messages = messages if messages is not None else CONVERSATION
    if mode == "sync":
        return pipe.complete(messages, **params)
    if mode == "sync-stream":
        with pipe.stream(messages, **params) as stream:
            return stream.collect()

    async def run() -> ChatResponse:
        try:
            if mode == "async":
                return await pipe.acomplete(messages, **params)
            async with pipe.astream(messages, **params) as stream:
                return await stream.collect()
        finally:
            await pipe.aclose()

    return asyncio.run(run())


def reachable(error: BaseException, *, limit: int = 5000) -> str:
    """The text of every object reachable from ``error``: what a caller could dig out of it.

    Walked: exceptions (``__cause__``, ``__context__``, ``args``, attributes), and containers
    and objects (``__dict__``, ``__slots__``) inside them; strings and bytes are collected.
    Tracebacks are not walked (their frames hold the caller's own locals, the key among them).
    """
    texts: list[str] = []
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo and len(seen) < limit:
        item = todo.pop()
        if item is None or id(item) in seen or isinstance(item, (int, float, bool, type)):
            continue
        seen.add(id(item))
        if isinstance(item, (str, bytes)):
            texts.append(item if isinstance(item, str) else item.decode("utf-8", "replace"))
            continue
        if isinstance(item, BaseException):
            texts.append(f"{item!s} {item!r}")
            todo += [item.__cause__, item.__context__, *item.args]
        if isinstance(item, dict):
            todo += [*item.keys(), *item.values()]
        elif isinstance(item, (list, tuple, set, frozenset)):
            todo += list(item)
        for name in getattr(type(item), "__slots__", ()):
            todo.append(getattr(item, name, None))
        if hasattr(item, "__dict__") and not callable(item):
            todo.append(vars(item))
    return "\n".join(texts)


def parse_events(adapter: Provider, events: list[SSEEvent], provider: str) -> ChatResponse:
    """What ``adapter`` alone (no network) makes of a stream of ``events``: the assembled reply,
    or the chatpipe error its parser or the accumulator raises."""
    parser = adapter.stream_parser(ChatRequest(model="m", messages=(), stream=True))
    accumulator = StreamAccumulator(provider=provider)
    for event in events:
        for chunk in parser.feed(event):
            accumulator.add(chunk)
        if parser.done:
            break
    for chunk in parser.finish():
        accumulator.add(chunk)
    return accumulator.response()
