"""The files ``chatpipe new`` writes, as ``string.Template`` texts (``$name``, ``$module``...).

Each kind maps a relative path (itself a template) to its content. The generated package
installs and passes its own tests as generated: the test suite of chatpipe proves it.
"""

from __future__ import annotations

__all__ = ["COMMON", "CONVERTER", "INSTALL_NOTE", "PROVIDER"]

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.27"]
build-backend = "hatchling.build"

[project]
name = "chatpipe-$name"
version = "0.1.0"
description = "chatpipe $kind '$name'."
readme = "README.md"
requires-python = ">=3.11"
license = "MIT"
dependencies = ["chatpipe>=0.1,<0.2"]

[project.optional-dependencies]
test = ["pytest>=8", "hypothesis>=6.100"]

[project.entry-points."chatpipe.$group"]
$name = "$module"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

INSTALL_NOTE = """\
chatpipe itself is not on the package index yet: install it first from a clone of its
repository (`python3 scripts/dev.py dist && pip install --find-links dist chatpipe`, or the
clone's `.venv` from `python3 scripts/dev.py setup`). Once both are published,
`pip install chatpipe-$name` brings chatpipe with it.
"""
"""How a generated package's README says to get chatpipe (a template, like the files)."""

COMMON: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    "$module/py.typed": "",
}

PROVIDER: dict[str, str] = {
    "README.md": """\
# chatpipe-$name

The `$name` provider for [chatpipe](https://chatpipe.readthedocs.io): $display's
OpenAI-compatible chat API (`$base_url`).

```
pip install -e .                   # this folder, into an environment that has chatpipe (see below)
chatpipe keys set $name            # or export $env
chatpipe chat --provider $name "Hello"
```

"""
    + INSTALL_NOTE
    + """
## Getting a key

Create an API key in $display's console and store it with `chatpipe keys set $name`, or
export `$env`.

## What is specific

* Default model: `$model` (`chatpipe models --provider $name` lists the others).
* Describe here what differs from OpenAI: dropped or renamed parameters, forced prompt
  conversion (`required_converters`), error shapes.

## Development

```
pip install -e '.[test]'
pytest                              # the provider conformance suite and the request tests
```
""",
    "$module/__init__.py": '''\
"""chatpipe provider plugin ``$name``: $display's OpenAI-compatible chat API.

Registered through the ``chatpipe.providers`` entry point ``$name``. Key from ``$env``.
Declare only what differs from OpenAI (see ``chatpipe.plugin.OpenAICompatibleProvider``).
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Capabilities, OpenAICompatibleProvider, Provider, ProviderInfo, hookimpl

__all__ = ["${cls}Provider", "chatpipe_register_providers"]


class ${cls}Provider(OpenAICompatibleProvider):
    """$display's chat completions at ``$base_url``."""

    info = ProviderInfo(
        name="$name",
        package="chatpipe-$name",
        display_name="$display",
        default_base_url="$base_url",
        api_key_env=("$env",),
        capabilities=Capabilities(tools=True, vision=False),
        required_converters=(),
        default_model="$model",
        description="$display's OpenAI-compatible chat API.",
    )


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`${cls}Provider` under the name ``$name``."""
    register(${cls}Provider)
''',
    "tests/test_${module}_conformance.py": '''\
"""The $name provider passes chatpipe's provider conformance suite (against a local fake server)."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class Test${cls}Conformance(ProviderConformance):
    simulator = OpenAISimulator("$name")
''',
    "tests/test_${module}_requests.py": '''\
"""What the $name provider sends, checked without a network (chatpipe's mock transport)."""

from chatpipe import Pipeline
from chatpipe.testing import MockTransport
from chatpipe.testing.conformance import OpenAISimulator, Reply


def test_a_completion_goes_to_chat_completions(mock_transport: MockTransport) -> None:
    mock_transport.enqueue(OpenAISimulator("$name").reply(Reply(text="Hello!")))
    pipe = Pipeline("$name", api_key="sk-test-0000", transport=mock_transport)
    assert pipe.complete([{"role": "user", "content": "Hi"}]).text == "Hello!"
    (request,) = mock_transport.requests
    assert request.url == "$base_url/chat/completions"
    assert request.json["model"] == "$model"
    assert request.json["messages"] == [{"role": "user", "content": "Hi"}]
''',
}

CONVERTER: dict[str, str] = {
    "README.md": """\
# chatpipe-$name

The `$name` prompt converter for [chatpipe](https://chatpipe.readthedocs.io): it drops
messages that carry nothing (no content, no tool call) before the conversation is sent.
Replace the rule in `$module/__init__.py` with your own.

```
pip install -e .                   # this folder, into an environment that has chatpipe (see below)
chatpipe explain --provider openai --converter $name "Hello"   # see what it does
```

"""
    + INSTALL_NOTE
    + """
```python
import chatpipe

chatpipe.convert([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}], "$name")
# [{'role': 'user', 'content': 'Hi'}]
```

## Development

```
pip install -e '.[test]'
pytest                              # the converter conformance suite and the rule's tests
```
""",
    "$module/__init__.py": '''\
"""chatpipe converter plugin ``$name``: drop messages that carry nothing.

Registered through the ``chatpipe.converters`` entry point ``$name``. A converter is pure:
it returns a new tuple and never mutates its input; it loses no text, media or tool call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatpipe.plugin import ConvertContext, Converter, Message, hookimpl

__all__ = ["CONVERTER", "chatpipe_register_converters", "convert"]


def _is_empty(message: Message) -> bool:
    return not message.content and not message.tool_calls and message.role != "tool"


def convert(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """``messages`` without those that have no content and no tool call (tool results are kept)."""
    return tuple(message for message in messages if not _is_empty(message))


CONVERTER = Converter(
    name="$name",
    fn=convert,
    description="Drop messages without content or tool calls.",
    keeps_tools=True,
    strictness=0,
)
"""The registered ``$name`` converter."""


@hookimpl
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register ``$name``."""
    register(CONVERTER)
''',
    "tests/test_${module}_conformance.py": '''\
"""The $name converter passes chatpipe's converter conformance suite."""

from chatpipe.testing.conformance import ConverterConformance


class Test${cls}Conformance(ConverterConformance):
    converter = "$name"
    idempotent = True
''',
    "tests/test_${module}_rule.py": '''\
"""The $name rule on concrete conversations."""

from typing import Any

import chatpipe


def test_empty_messages_are_dropped() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": ""},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": None},
    ]
    assert chatpipe.convert(messages, "$name") == [{"role": "user", "content": "Hi"}]


def test_tool_turns_are_kept() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": ""},
    ]
    assert [m["role"] for m in chatpipe.convert(messages, "$name")] == ["user", "assistant", "tool"]
''',
}
