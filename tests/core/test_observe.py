"""chatpipe._observe: the hooks of a call's life, through complete/acomplete/stream, retries and a router."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from chatpipe import Pipeline, hookimpl
from chatpipe._entrypoints import scan
from chatpipe._observe import server_of
from chatpipe.config import parse_config
from chatpipe.errors import RateLimitError
from chatpipe.plugin import CallInfo
from chatpipe.registry import PLUGIN_GROUP, Registry
from chatpipe.testing.fake_server import FakeResponse, FakeServer

from .test_registry_plugins import install, site  # noqa: F401  (the fixture)

KEY = "sk-test-PLANTED-observe-0123456789"
ROUTE = "POST /v1/chat/completions"


def completion(text: str) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def chunks(*texts: str) -> FakeResponse:
    items: list[Any] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    items += [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    items += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]"]
    return FakeResponse.sse(items)


class Recorder:
    """An observer of every hook of a call's life; ``events`` in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    @hookimpl
    def chatpipe_call_started(self, call: CallInfo) -> None:
        self.events.append(("started", call))

    @hookimpl
    def chatpipe_call_retry(self, call: CallInfo, attempt: int, reason: str, status: int | None, wait: float) -> None:
        self.events.append(("retry", call, attempt, reason, status))

    @hookimpl
    def chatpipe_router_hop(
        self, call_id: str, profile: str | None, from_target: str, to_target: str, error: Any
    ) -> None:
        self.events.append(("hop", call_id, profile, from_target, to_target, type(error).__name__))

    @hookimpl
    def chatpipe_rate_limit_wait(self, call: CallInfo, limit: str, seconds: float, admitted: bool) -> None:
        self.events.append(("wait", call, limit, seconds, admitted))

    @hookimpl
    def chatpipe_first_token(self, call: CallInfo, seconds: float) -> None:
        assert seconds >= 0
        self.events.append(("first_token", call))

    @hookimpl
    def chatpipe_call_finished(self, call: CallInfo, response: Any, seconds: float) -> None:
        assert seconds >= 0
        self.events.append(("finished", call, response.text, response.usage.total_tokens if response.usage else None))

    @hookimpl
    def chatpipe_call_failed(self, call: CallInfo, error: Any, seconds: float) -> None:
        self.events.append(("failed", call, type(error).__name__))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]

    def ids(self) -> set[str]:
        return {e[1] if e[0] == "hop" else e[1].id for e in self.events}


def pipe(server: FakeServer, registry: Registry, **kw: Any) -> Pipeline:
    return Pipeline("custom", "m", base_url=f"{server.url}/v1", api_key=KEY, registry=registry, **kw)


@pytest.fixture
def observed() -> tuple[Registry, Recorder]:
    registry, recorder = Registry(), Recorder()
    registry.register(recorder)
    return registry, recorder


def test_complete_acomplete_and_stream_report_their_life_with_one_id_each(
    fake_server: FakeServer, observed: tuple[Registry, Recorder]
) -> None:
    registry, rec = observed
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("A")), FakeResponse.json(completion("B")), chunks("C", "D"))
    with pipe(fake_server, registry) as p:
        assert p.complete([{"role": "user", "content": "Hi"}]).text == "A"
        assert asyncio.run(p.acomplete([{"role": "user", "content": "Hi"}])).text == "B"
        assert "".join(c.text or "" for c in p.stream([{"role": "user", "content": "Hi"}])) == "CD"
    assert rec.kinds() == ["started", "finished", "started", "finished", "started", "first_token", "finished"]
    calls = [e[1] for e in rec.events]
    assert len({c.id for c in calls}) == 3
    host, port = fake_server.url.split("//")[1].split(":")
    assert calls[0] == CallInfo(calls[0].id, "custom", "m", None, None, False, host, int(port))
    assert calls[4].stream and calls[4] == calls[5] == calls[6]
    assert rec.events[1][2:] == ("A", 5) and rec.events[6][2] == "CD"


def test_an_async_stream_reports_first_token_and_finish(
    fake_server: FakeServer, observed: tuple[Registry, Recorder]
) -> None:
    registry, rec = observed
    fake_server.enqueue(ROUTE, chunks("x"))

    async def run() -> str:
        async with pipe(fake_server, registry) as p:
            return "".join([c.text or "" async for c in p.astream([{"role": "user", "content": "Hi"}])])

    assert asyncio.run(run()) == "x"
    assert rec.kinds() == ["started", "first_token", "finished"] and len(rec.ids()) == 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_retry_is_reported_between_start_and_finish(
    fake_server: FakeServer, observed: tuple[Registry, Recorder], stream: bool
) -> None:
    registry, rec = observed
    busy = FakeResponse.json({"error": {"message": "slow down"}}, status=429, headers={"retry-after": "0"})
    fake_server.enqueue(ROUTE, busy, chunks("ok") if stream else FakeResponse.json(completion("ok")))
    with pipe(fake_server, registry) as p:
        messages = [{"role": "user", "content": "Hi"}]
        text = p.stream(messages).collect().text if stream else p.complete(messages).text
    assert text == "ok"
    expected = ["started", "retry", "first_token", "finished"] if stream else ["started", "retry", "finished"]
    assert rec.kinds() == expected and len(rec.ids()) == 1
    assert rec.events[1][2:] == (2, "status 429", 429)


def test_a_failure_is_reported_with_its_typed_error(
    fake_server: FakeServer, observed: tuple[Registry, Recorder]
) -> None:
    registry, rec = observed
    fake_server.enqueue(
        ROUTE, FakeResponse.json({"error": {"message": "no"}}, status=429, headers={"retry-after": "0"})
    )
    with pipe(fake_server, registry, max_retries=0) as p, pytest.raises(RateLimitError):
        p.complete([{"role": "user", "content": "Hi"}])
    assert rec.kinds() == ["started", "failed"] and rec.events[1][2] == "RateLimitError"


ROUTER = """
max_retries: 0
profiles:
  down: {{provider: custom, base_url: '{url}/down/v1', model: m1, api_key: {key}}}
  up: {{provider: custom, base_url: '{url}/v1', model: m2, api_key: {key}}}
  both: {{route: {{targets: [down, up]}}}}
"""


@pytest.mark.parametrize("stream", [False, True])
def test_a_router_fallback_reports_the_hop_and_shares_one_id(
    fake_server: FakeServer, observed: tuple[Registry, Recorder], stream: bool
) -> None:
    registry, rec = observed
    fake_server.enqueue("POST /down/v1/chat/completions", FakeResponse.json({"error": {"message": "x"}}, status=503))
    fake_server.enqueue(ROUTE, chunks("ok") if stream else FakeResponse.json(completion("ok")))
    config = parse_config(ROUTER.format(url=fake_server.url, key=KEY))
    with Pipeline.from_config("both", config=config, registry=registry) as router:
        messages = [{"role": "user", "content": "Hi"}]
        reply = router.stream(messages).collect() if stream else router.complete(messages)
    assert reply.text == "ok" and reply.route == "up"
    tail = ["first_token", "finished"] if stream else ["finished"]
    assert rec.kinds() == ["started", "failed", "hop", "started", *tail]
    assert len(rec.ids()) == 1
    first, second = rec.events[0][1], rec.events[3][1]
    assert (first.route, first.model, first.profile, second.route, second.model) == ("down", "m1", "down", "up", "m2")
    assert rec.events[2][2:] == ("both", "down", "up", "OverloadedError")
    assert (first.router, second.router) == ("both", "both")


def test_a_wait_for_room_in_the_rate_limits_is_reported_with_its_outcome(
    fake_server: FakeServer, observed: tuple[Registry, Recorder]
) -> None:
    registry, rec = observed
    fake_server.route(ROUTE, lambda r: chunks("s") if r.json.get("stream") else FakeResponse.json(completion("ok")))
    # one call per 0.3 s: every call after the first waits for the window, then goes
    limits = {"rpm": 200, "window": 0.3, "max_wait": 5}
    hi = [{"role": "user", "content": "Hi"}]
    with pipe(fake_server, registry, profile="waits", limits=limits) as p:
        p.complete(hi)
        p.complete(hi)
        assert p.stream(hi).collect().text == "s"

        async def twice() -> None:
            await p.acomplete(hi)
            await p.acomplete(hi)

        asyncio.run(twice())
    waits = [e for e in rec.events if e[0] == "wait"]
    assert len(waits) == 4  # every call but the first found the window full
    assert all(limit == "rpm" and admitted for _, _, limit, _, admitted in waits)
    assert all(0.1 < seconds < 1.5 for _, _, _, seconds, _ in waits), waits
    assert [call.stream for _, call, *_ in waits] == [False, True, False, False]
    # a wait comes between its call's start and its end
    assert rec.kinds()[2:5] == ["started", "wait", "finished"]


def test_a_call_giving_up_on_its_rate_limit_reports_the_refusal_then_fails(
    fake_server: FakeServer, observed: tuple[Registry, Recorder]
) -> None:
    registry, rec = observed
    fake_server.route(ROUTE, lambda _: FakeResponse.json(completion("ok")))
    with pipe(fake_server, registry, profile="full", limits={"concurrency": 1, "rpm": 1, "max_wait": 0.2}) as p:
        p.complete([{"role": "user", "content": "Hi"}])
        with pytest.raises(RateLimitError):
            p.complete([{"role": "user", "content": "Hi"}])
    assert rec.kinds() == ["started", "finished", "started", "wait", "failed"]
    _, _, limit, seconds, admitted = rec.events[3]
    assert (limit, admitted) == ("rpm", False) and 0.15 < seconds < 1.5
    assert rec.events[4][2] == "LimitExceededError"


def test_calls_with_room_report_no_wait(fake_server: FakeServer, observed: tuple[Registry, Recorder]) -> None:
    registry, rec = observed
    fake_server.route(ROUTE, lambda _: FakeResponse.json(completion("ok")))
    with pipe(fake_server, registry, profile="roomy", limits={"rpm": 600}) as p:
        for _ in range(3):
            p.complete([{"role": "user", "content": "Hi"}])
    assert rec.kinds() == ["started", "finished"] * 3


class Raising:
    @hookimpl
    def chatpipe_call_started(self, call: CallInfo) -> None:
        raise RuntimeError(f"boom with {KEY}")

    @hookimpl
    def chatpipe_call_finished(self, call: CallInfo, response: Any, seconds: float) -> None:
        raise ValueError("finished boom")


def test_a_raising_observer_is_logged_once_and_never_breaks_the_call(
    fake_server: FakeServer, observed: tuple[Registry, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    registry, rec = observed
    registry.register(Raising(), name="raiser")
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("A")), FakeResponse.json(completion("B")))
    with caplog.at_level(logging.WARNING, logger="chatpipe.observe"), pipe(fake_server, registry) as p:
        assert p.complete([{"role": "user", "content": "Hi"}]).text == "A"
        assert p.complete([{"role": "user", "content": "Hi"}]).text == "B"
    assert rec.kinds() == ["started", "finished"] * 2  # the other observer still saw everything
    messages = [r.getMessage() for r in caplog.records if r.name == "chatpipe.observe"]
    assert len([m for m in messages if "chatpipe_call_started" in m]) == 1  # once per interval
    assert len([m for m in messages if "chatpipe_call_finished" in m]) == 1
    assert all("'raiser'" in m and KEY not in m for m in messages)
    assert any("boom with ***" in m or "boom with" in m for m in messages)


def test_no_key_appears_in_any_event(fake_server: FakeServer, observed: tuple[Registry, Recorder]) -> None:
    registry, rec = observed
    busy = FakeResponse.json({"error": {"message": f"bad key {KEY}"}}, status=429, headers={"retry-after": "0"})
    fake_server.enqueue(ROUTE, busy, busy)
    with pipe(fake_server, registry, max_retries=1) as p, pytest.raises(RateLimitError):
        p.complete([{"role": "user", "content": "Hi"}])
    assert rec.kinds() == ["started", "retry", "failed"]
    assert KEY not in repr(rec.events)
    assert KEY not in str(registry.plugin_manager)  # nothing stored aside


def test_nobody_observing_makes_no_tracker(fake_server: FakeServer) -> None:
    registry = Registry()
    assert not registry.observes_calls()
    fake_server.enqueue(ROUTE, chunks("x"))
    with pipe(fake_server, registry) as p:
        stream = p.stream([{"role": "user", "content": "Hi"}])
        assert stream._call.observed is None and stream.collect().text == "x"


OBSERVER = """
from chatpipe import hookimpl

SEEN = []

@hookimpl
def chatpipe_call_finished(call, response, seconds):
    SEEN.append((call.profile, response.text))
"""


@pytest.mark.parametrize("where", ["top", "profile", "alias"])
def test_an_entry_point_observer_is_loaded_only_when_named(
    site: Path,  # noqa: F811
    fake_server: FakeServer,
    where: str,
) -> None:
    install(
        site,
        "chatpipe-obs",
        {PLUGIN_GROUP: {"obs": "tests_plug_obs", "other": "tests_plug_other"}},
        {"tests_plug_obs": OBSERVER, "tests_plug_other": "raise RuntimeError('must never be imported')\n"},
    )
    registry = Registry(entry_points=[*scan([PLUGIN_GROUP], paths=[str(site)]), *Registry().entry_points()])
    top = {"top": "observers: [obs]\n", "alias": "plugins: [obs]\n", "profile": ""}[where]
    extra = ", observers: [obs]" if where == "profile" else ""
    config = parse_config(
        f"{top}profiles:\n  p: {{provider: custom, base_url: '{fake_server.url}/v1', model: m{extra}}}\n"
    )
    assert "tests_plug_obs" not in sys.modules
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("Hello!")))
    with Pipeline.from_config("p", config=config, registry=registry, api_key=KEY) as p:
        p.complete([{"role": "user", "content": "Hi"}])
    assert sys.modules["tests_plug_obs"].SEEN == [("p", "Hello!")]
    assert "tests_plug_other" not in sys.modules


def test_a_router_profile_takes_observers() -> None:
    config = parse_config(
        "profiles:\n  a: {provider: custom, base_url: 'http://h/v1'}\n  r: {route: {targets: [a]}, observers: x}\n"
    )
    assert config.profiles["r"].observers == ("x",)
    assert parse_config("observers: [a, b]").observers == ("a", "b")


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("https://user:pw@api.example.com/v1?key=sk-x", ("api.example.com", 443)),
        ("http://127.0.0.1:8080/v1", ("127.0.0.1", 8080)),
        ("HTTP://[::1]/v1", ("::1", 80)),
        ("http://h:notaport/v1", (None, None)),
    ],
)
def test_server_of_names_only_host_and_port(url: str, server: tuple[str | None, int | None]) -> None:
    assert server_of(url) == server
