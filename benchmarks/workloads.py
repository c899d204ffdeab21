"""One benchmark measurement in a fresh process: ``python workloads.py CLIENT SCENARIO CONFIG_JSON``.

Run by ``run.py`` (with the project's virtualenv for chatpipe/httpx/httpx2, with
``benchmarks/.venv`` for the other SDKs); prints one JSON object on its last stdout line.
Standard library only, plus the one client library under test, imported inside the timed
section of the ``import`` scenario.

Clients: ``chatpipe``, ``httpx``, ``httpx2`` (bare: post + ``.json()``, or ``iter_lines``),
``httpx2+json`` (bare httpx2 whose stream also decodes every ``data:`` line's JSON), ``openai``,
``litellm``; ``anthropic`` and ``chatpipe-claude`` (chatpipe's Claude adapter) on
the Anthropic-style endpoint.
Scenarios: ``import``, ``sync``, ``async``, ``stream``, ``burst``, ``cli`` and ``chain``
(chatpipe only).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

KEY = "sk-bench-0123456789abcdef"
MODEL = "bench-model"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello! Say something nice."},
]


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; else peak RSS)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- clients -------------------------------------------------------------------------------


class Client:
    """The operations a client library is measured on (built by :meth:`setup`, inside the timing)."""

    def setup(self, url: str) -> None:
        raise NotImplementedError

    def call(self) -> str:
        raise NotImplementedError

    async def acall(self) -> str:
        raise NotImplementedError

    def stream(self) -> int:
        """Consume one stream; return the number of content pieces seen."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close async resources inside the running loop."""


class Bare(Client):
    """httpx or httpx2 used directly: the floor every client library sits on."""

    def __init__(self, module: str, *, decode_json: bool = False) -> None:
        self.module_name = module
        self.decode_json = decode_json

    def setup(self, url: str) -> None:
        module = __import__(self.module_name)
        self.mod = module
        self.url = url + "/v1/chat/completions"
        self.headers = {"authorization": f"Bearer {KEY}"}
        self.client = module.Client()
        self.aclient: Any = None
        self.payload = {"model": MODEL, "messages": MESSAGES}
        self.stream_payload = {"model": MODEL, "messages": MESSAGES, "stream": True}

    def call(self) -> str:
        response = self.client.post(self.url, json=self.payload, headers=self.headers)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    async def acall(self) -> str:
        if self.aclient is None:
            self.aclient = self.mod.AsyncClient()
        response = await self.aclient.post(self.url, json=self.payload, headers=self.headers)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])

    def stream(self) -> int:
        if self.decode_json:
            return self.stream_json()
        count = 0
        with self.client.stream("POST", self.url, json=self.stream_payload, headers=self.headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    if line == "data: [DONE]":
                        break
                    count += 1
        return count - 3  # role, finish and usage chunks carry no content

    def stream_json(self) -> int:
        """Line iteration plus ``json.loads`` of every data line: the least a client that reads the chunks does."""
        count = 0
        loads = json.loads
        with self.client.stream("POST", self.url, json=self.stream_payload, headers=self.headers) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    loads(line[6:])
                    count += 1
        return count - 3  # role, finish and usage chunks carry no content

    async def aclose(self) -> None:
        if self.aclient is not None:
            await self.aclient.aclose()


class Chatpipe(Client):
    """chatpipe: ``Pipeline("openai", converters=["strict"])`` (one provider, one converter)."""

    def setup(self, url: str) -> None:
        import chatpipe

        self.pipe = chatpipe.Pipeline(
            "openai", model=MODEL, converters=["strict"], api_key=KEY, base_url=url + "/v1", max_retries=2
        )

    def call(self) -> str:
        return str(self.pipe.complete(MESSAGES).text)

    async def acall(self) -> str:
        return str((await self.pipe.acomplete(MESSAGES)).text)

    def stream(self) -> int:
        count = 0
        for chunk in self.pipe.stream(MESSAGES):
            if chunk.text:
                count += 1
        return count

    async def aclose(self) -> None:
        await self.pipe.aclose()


class ChatpipeClaude(Chatpipe):
    """chatpipe's Claude adapter against the Anthropic-style endpoint (next to the anthropic SDK)."""

    def setup(self, url: str) -> None:
        import chatpipe

        self.pipe = chatpipe.Pipeline(
            "claude", model=MODEL, converters=["strict"], api_key=KEY, base_url=url, max_retries=2
        )


class OpenAISDK(Client):
    """The official openai SDK."""

    def setup(self, url: str) -> None:
        import openai

        self.openai = openai
        self.client = openai.OpenAI(api_key=KEY, base_url=url + "/v1")
        self.url = url
        self.aclient: Any = None

    def call(self) -> str:
        reply = self.client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
        return str(reply.choices[0].message.content)

    async def acall(self) -> str:
        if self.aclient is None:
            self.aclient = self.openai.AsyncOpenAI(api_key=KEY, base_url=self.url + "/v1")
        reply = await self.aclient.chat.completions.create(model=MODEL, messages=MESSAGES)
        return str(reply.choices[0].message.content)

    def stream(self) -> int:
        count = 0
        stream: Any = self.client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)  # type: ignore
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count

    async def aclose(self) -> None:
        if self.aclient is not None:
            await self.aclient.close()


class LiteLLM(Client):
    """litellm's ``completion`` / ``acompletion`` through its OpenAI route."""

    def setup(self, url: str) -> None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download at import
        os.environ.setdefault("LITELLM_TELEMETRY", "False")
        import litellm

        litellm.telemetry = False
        self.litellm = litellm
        self.kwargs = {"model": f"openai/{MODEL}", "api_base": url + "/v1", "api_key": KEY, "messages": MESSAGES}

    def call(self) -> str:
        return str(self.litellm.completion(**self.kwargs).choices[0].message.content)

    async def acall(self) -> str:
        reply = await self.litellm.acompletion(**self.kwargs)
        return str(reply.choices[0].message.content)

    def stream(self) -> int:
        count = 0
        for chunk in self.litellm.completion(**self.kwargs, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                count += 1
        return count


class AnthropicSDK(Client):
    """The official anthropic SDK, against the Anthropic-style endpoint."""

    def setup(self, url: str) -> None:
        import anthropic

        self.anthropic = anthropic
        self.url = url
        self.client = anthropic.Anthropic(api_key=KEY, base_url=url)
        self.aclient: Any = None
        self.kwargs: dict[str, Any] = {
            "model": MODEL,
            "max_tokens": 256,
            "system": MESSAGES[0]["content"],
            "messages": MESSAGES[1:],
        }

    def call(self) -> str:
        return str(self.client.messages.create(**self.kwargs).content[0].text)

    async def acall(self) -> str:
        if self.aclient is None:
            self.aclient = self.anthropic.AsyncAnthropic(api_key=KEY, base_url=self.url)
        return str((await self.aclient.messages.create(**self.kwargs)).content[0].text)

    def stream(self) -> int:
        count = 0
        for event in self.client.messages.create(**self.kwargs, stream=True):
            if event.type == "content_block_delta":
                count += 1
        return count

    async def aclose(self) -> None:
        if self.aclient is not None:
            await self.aclient.close()


def make_client(name: str) -> Client:
    """The client object for ``name``."""
    if name in ("httpx", "httpx2"):
        return Bare(name)
    if name == "httpx2+json":
        return Bare("httpx2", decode_json=True)
    factories = {
        "chatpipe": Chatpipe,
        "chatpipe-claude": ChatpipeClaude,
        "openai": OpenAISDK,
        "litellm": LiteLLM,
        "anthropic": AnthropicSDK,
    }
    if name not in factories:
        raise SystemExit(f"unknown client {name!r}; choose from httpx, httpx2, httpx2+json, {', '.join(factories)}")
    return factories[name]()


# --- scenarios -----------------------------------------------------------------------------


def scenario_import(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """Import the library and build a client, timed in this fresh process."""
    start = time.perf_counter()
    client.setup(cfg["url"])
    elapsed = time.perf_counter() - start
    gc.collect()
    return {"import_ms": elapsed * 1e3, "rss_mb": rss_mb(), "modules": len(sys.modules)}


BLOCKS = 10
"""Sequential calls are timed in this many equal blocks; the median block is reported.

A shared machine has slow phases lasting a second or more (seen here: every client at once
1.4x slower); the median block keeps such a phase from deciding a whole measurement.
"""


def _per_call(times: list[tuple[float, float]], per_block: int) -> dict[str, float]:
    """Median wall and CPU microseconds per call over the blocks' ``(wall, cpu)`` seconds."""
    return {
        "us_per_call": statistics.median(w for w, _ in times) / per_block * 1e6,
        "cpu_us_per_call": statistics.median(c for _, c in times) / per_block * 1e6,
        "us_per_call_mean": sum(w for w, _ in times) / (per_block * len(times)) * 1e6,
    }


def scenario_sync(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """Sequential sync calls: wall and CPU microseconds per call (median of BLOCKS blocks)."""
    client.setup(cfg["url"])
    for _ in range(cfg["warmup"]):
        client.call()
    per_block = max(1, cfg["calls"] // BLOCKS)
    times = []
    for _ in range(BLOCKS):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(per_block):
            client.call()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return {**_per_call(times, per_block), "calls": per_block * BLOCKS}


def scenario_async(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """Sequential awaited calls on one event loop: wall and CPU µs per call (median of BLOCKS blocks)."""
    client.setup(cfg["url"])
    per_block = max(1, cfg["calls"] // BLOCKS)

    async def run() -> list[tuple[float, float]]:
        for _ in range(cfg["warmup"]):
            await client.acall()
        times = []
        for _ in range(BLOCKS):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(per_block):
                await client.acall()
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
        await client.aclose()
        return times

    return {**_per_call(asyncio.run(run()), per_block), "calls": per_block * BLOCKS}


def scenario_stream(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """Sync streams of ``chunks`` content chunks: chunks per second (median over streams)."""
    client.setup(cfg["url"])
    expected = cfg["chunks"]
    for _ in range(cfg["stream_warmup"]):
        client.stream()
    rates, cpus = [], []
    for _ in range(cfg["streams"]):
        wall, cpu = time.perf_counter(), time.process_time()
        count = client.stream()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if count != expected:
            raise SystemExit(f"stream delivered {count} content chunks, expected {expected}")
        rates.append(count / wall)
        cpus.append(cpu / count * 1e6)
    return {"chunks_per_s": statistics.median(rates), "cpu_us_per_chunk": statistics.median(cpus), "chunks": expected}


def scenario_burst(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """``burst`` concurrent async calls, twice on one client: cold (new pool) then warm."""
    client.setup(cfg["url"])
    size = cfg["burst"]
    before = rss_mb()

    async def one_burst() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        replies = await asyncio.gather(*(client.acall() for _ in range(size)))
        if len(replies) != size or not all(replies):
            raise SystemExit("a burst call returned nothing")
        return time.perf_counter() - wall, time.process_time() - cpu

    async def run() -> dict[str, float]:
        cold_wall, cold_cpu = await one_burst()
        warm_wall, warm_cpu = await one_burst()
        await client.aclose()
        return {"cold_wall_s": cold_wall, "cold_cpu_s": cold_cpu, "warm_wall_s": warm_wall, "warm_cpu_s": warm_cpu}

    result: dict[str, Any] = asyncio.run(run())
    result.update(rss_before_mb=before, peak_rss_mb=peak_rss_mb(), burst=size)
    return result


def scenario_cli(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """``chatpipe --help`` in-process: time, and whether any provider or HTTP library was imported."""
    import contextlib
    import io

    start = time.perf_counter()
    from chatpipe.cli import main

    with contextlib.redirect_stdout(io.StringIO()) as out:
        main(["--help"])
    elapsed = time.perf_counter() - start
    # Every provider adapter subclasses chatpipe.provider.Provider: if that module was never
    # imported, no provider was. Plugin packages imported only for their CLI commands are listed apart.
    heavy = (
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "chatpipe.provider",
        "chatpipe._transport",
        "chatpipe.openai_compat",
        "chatpipe.pipeline",
    )
    forbidden = sorted(name for name in sys.modules if name in heavy)
    plugins = sorted(name for name in sys.modules if name.startswith("chatpipe_"))
    return {
        "help_ms": elapsed * 1e3,
        "forbidden_modules": forbidden,
        "plugin_modules": plugins,
        "printed_help": "Usage" in out.getvalue(),
    }


def scenario_chain(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """The converter chain over a 200-message conversation (median ms), and the full request build."""
    client.setup(cfg["url"])
    assert isinstance(client, Chatpipe)
    pipe = client.pipe
    from chatpipe.wire import messages_from_dicts

    conversation: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful assistant."}]
    for i in range(199):
        role = "user" if i % 2 == 0 else "assistant"
        conversation.append({"role": role, "content": f"message {i}: " + "some words of a chat turn " * 8})
    structured = messages_from_dicts(conversation)
    chain_times, build_times = [], []
    for _ in range(cfg["chain_reps"]):
        start = time.perf_counter()
        pipe._stages(structured)
        chain_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        pipe._build(conversation, stream=False, tools=None, tool_choice=None, params={})
        build_times.append(time.perf_counter() - start)
    return {
        "chain_ms": statistics.median(chain_times) * 1e3,
        "build_ms": statistics.median(build_times) * 1e3,
        "messages": len(conversation),
        "converters": [c.name for c in (*pipe.converters, *pipe.required)],
    }


def scenario_versions(client: Client, cfg: dict[str, Any]) -> dict[str, Any]:
    """Installed versions of the measured libraries in this environment (no import of them)."""
    from importlib import metadata

    versions = {}
    for name in ("chatpipe", "httpx", "httpx2", "openai", "litellm", "anthropic"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"versions": versions, "python": sys.version.split()[0]}


SCENARIOS = {
    "versions": scenario_versions,
    "import": scenario_import,
    "sync": scenario_sync,
    "async": scenario_async,
    "stream": scenario_stream,
    "burst": scenario_burst,
    "cli": scenario_cli,
    "chain": scenario_chain,
}


def main() -> None:
    """``workloads.py CLIENT SCENARIO CONFIG_JSON``: run one measurement, print its JSON."""
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    client_name, scenario, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if scenario not in SCENARIOS:
        raise SystemExit(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    client = make_client(client_name) if scenario != "versions" else Client()
    result = SCENARIOS[scenario](client, cfg)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
