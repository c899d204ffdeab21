"""The options commands share, each declared once, and what they select.

* :func:`pipeline_options` adds ``--profile``, ``--provider``, ``--model``, ``--converter`` and
  ``--base-url`` and hands the command one :class:`PipelineChoice` (keyword ``pipeline``);
  the command builds the pipeline with :meth:`PipelineChoice.build` when it needs it.
  :func:`endpoint_options` is the same without ``--converter``, for commands that send no
  conversation (``models``, ``check``).
* :func:`call_options` adds ``-o KEY VALUE``, ``--max-tokens`` and ``--key`` to that choice
  (request parameters and a one-off key, over the profile's).
* :func:`message_options` adds ``PROMPT``, ``--system`` and ``--messages`` and hands the
  command the conversation they give (keyword ``messages``), read before the command runs.

Importing this module imports click only; the pipeline is imported by ``build()``.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

if TYPE_CHECKING:
    from ..config import Config
    from ..pipeline import Pipeline

__all__ = [
    "CONTEXT",
    "EMBEDDED_DEFAULT",
    "PipelineChoice",
    "call_options",
    "endpoint_options",
    "message_options",
    "pipeline_options",
]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
"""The context settings of every chatpipe command."""

EMBEDDED_DEFAULT = "local"
"""The provider used when there is no config, no profile and no --provider (if installed)."""

R = TypeVar("R")


class PipelineChoice(NamedTuple):
    """The pipeline the options describe: a profile, or an ad-hoc provider, with overrides."""

    config_path: Path | None
    profile: str | None
    provider: str | None
    model: str | None
    converters: tuple[str, ...]
    base_url: str | None
    params: tuple[tuple[str, Any], ...] = ()
    api_key: str | None = None

    def build(self, config: Config | None = None) -> Pipeline:
        """Build the pipeline from ``config`` (default: load it) — a usage or config error when it cannot."""
        from ..config import load_config
        from ..errors import ConfigError
        from ..pipeline import Pipeline

        config = config or load_config(self.config_path)
        overrides: dict[str, Any] = {}
        if self.model:
            overrides["model"] = self.model
        if self.converters:
            overrides["converters"] = list(self.converters)
        if self.base_url:
            overrides["base_url"] = self.base_url
        overrides.update(self.params)
        if self.api_key:
            overrides["api_key"] = self.api_key
        profile, provider = self.profile, self.provider
        if provider and profile:
            raise click.UsageError("give either --profile or --provider, not both")
        if profile and profile not in config.profiles and _is_provider(profile):
            provider = profile  # `-p claude` with no such profile: the provider of that name
        if not provider and not profile and not config.profiles and _is_provider(EMBEDDED_DEFAULT):
            provider = EMBEDDED_DEFAULT  # no config at all: the local model, offline, no key
            _embedded_default(self.model)
        if provider:
            return Pipeline(
                provider,
                placeholder=config.prompt_placeholder,
                names=config.names,
                max_retries=config.max_retries,
                timeout=(config.timeout.connect, config.timeout.read),
                plugins=config.plugins,
                **overrides,
            )
        if not config.profiles:
            where = f" in {config.source}" if config.source else ""
            raise ConfigError(
                f"no profiles configured{where}: pass --provider NAME (e.g. --provider openai), "
                "write a chatpipe.yaml with a 'profiles' section (chatpipe config init writes a starter; "
                "chatpipe config path lists where chatpipe looks; docs/configuration.md), "
                "or pip install chatpipe-local for an offline default model"
            )
        return Pipeline.from_config(profile, config=config, **overrides)


def _embedded_default(model: str | None) -> None:
    """Say on stderr that the embedded local model answers (there is no config); refuse a
    ``--model`` it cannot be, rather than answer as if it were that model."""
    from ..errors import ConfigError
    from ..registry import default_registry

    local = default_registry().provider(EMBEDDED_DEFAULT).info.default_model
    if model and model != local:
        raise ConfigError(
            f"no config file: only the embedded local model ({local}) can answer, not --model {model}; "
            f"pass --provider NAME (e.g. --provider openai -m {model}) or write a chatpipe.yaml profile for it "
            "(chatpipe config path shows where chatpipe looks; docs/configuration.md)"
        )
    click.secho(
        f"no config file: answering with the embedded local model ({local}, started on this machine in a "
        "few seconds); for a vendor, pass --provider NAME or write a chatpipe.yaml (docs/configuration.md)",
        err=True,
        dim=True,
    )


def _is_provider(name: str) -> bool:
    from ..errors import PluginNotFoundError
    from ..registry import default_registry

    try:
        default_registry().provider(name)
    except PluginNotFoundError:
        return False
    return True


def _apply(fn: Callable[..., R], decorators: list[Callable[[Callable[..., R]], Callable[..., R]]]) -> Callable[..., R]:
    """``fn`` under ``decorators``, the first one outermost (first in ``--help``)."""
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def _selection_options(fn: Callable[..., R], *, converters: bool) -> Callable[..., R]:
    """``fn`` with the options that select and adjust the pipeline (``--converter`` only when
    ``converters``), handed on as one :class:`PipelineChoice` (keyword ``pipeline``)."""

    @functools.wraps(fn)
    def command(
        *args: Any,
        profile: str | None,
        provider: str | None,
        model: str | None,
        base_url: str | None,
        converters: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> R:
        config_path = click.get_current_context().obj["config_path"]
        choice = PipelineChoice(config_path, profile, provider, model, converters, base_url)
        return fn(*args, pipeline=choice, **kwargs)

    chain = click.option(
        "--converter",
        "converters",
        multiple=True,
        help="Converter to apply (repeat for a chain); replaces the profile's chain.",
    )
    return _apply(
        command,
        [
            click.option(
                "-p",
                "--profile",
                help="Profile from the config file (default: the config's 'default'); a provider name works "
                "too when no profile has that name.",
            ),
            click.option("--provider", help="Use this provider directly, without a profile (e.g. openai, custom)."),
            click.option("-m", "--model", help="Model id, overriding the profile's."),
            *([chain] if converters else []),
            click.option("--base-url", help="Base URL, overriding the profile's (e.g. http://127.0.0.1:1234/v1)."),
        ],
    )


def pipeline_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the options that select and adjust the pipeline; pass them on as ``pipeline``."""
    return _selection_options(fn, converters=True)


def endpoint_options(fn: Callable[..., R]) -> Callable[..., R]:
    """:func:`pipeline_options` without ``--converter``, for commands that send no conversation
    (``models``, ``check``): the choice's ``converters`` is empty."""
    return _selection_options(fn, converters=False)


def _option_value(text: str) -> Any:
    """``-o KEY VALUE``'s value: JSON when it parses (``0.2``, ``true``, ``["a"]``, ``{"x": 1}``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def call_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the options of one call — ``-o KEY VALUE``, ``--max-tokens``, ``--key`` — to the
    ``pipeline`` that :func:`pipeline_options` (applied outside this one) hands on."""

    @functools.wraps(fn)
    def command(
        *args: Any,
        pipeline: PipelineChoice,
        options: tuple[tuple[str, str], ...],
        max_tokens: int | None,
        key: str | None,
        **kwargs: Any,
    ) -> R:
        params = [(name, _option_value(value)) for name, value in options]
        if max_tokens is not None:
            params.append(("max_tokens", max_tokens))
        return fn(*args, pipeline=pipeline._replace(params=tuple(params), api_key=key), **kwargs)

    return _apply(
        command,
        [
            click.option(
                "-o",
                "--option",
                "options",
                nargs=2,
                multiple=True,
                metavar="KEY VALUE",
                help="A request parameter, e.g. -o temperature 0.2 (repeatable; VALUE is JSON when it parses, "
                "else text), over the profile's params.",
            ),
            click.option("--max-tokens", type=click.IntRange(min=1), help="The reply's most tokens (max_tokens)."),
            click.option(
                "--key",
                help="An API key for this call only, over the profile's and the stored one (visible to other "
                "users of this machine in the process list: prefer 'chatpipe keys set' or the env var).",
            ),
        ],
    )


def message_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the options that give the conversation; pass it on as ``messages``.

    A conversation is required, except by a command run with ``--interactive`` (its turns are
    typed then).
    """

    @functools.wraps(fn)
    def command(*args: Any, prompt: str | None, system: str | None, messages_file: Any, **kwargs: Any) -> R:
        required = not kwargs.get("interactive", False)
        return fn(*args, messages=_read_messages(prompt, system, messages_file, required=required), **kwargs)

    return _apply(
        command,
        [
            click.argument("prompt", required=False),
            click.option("-s", "--system", help="A system message placed before the prompt."),
            click.option(
                "--messages",
                "messages_file",
                type=click.File("r"),
                help="A JSON file (or - for stdin) holding the message list; the prompt, if given, is appended.",
            ),
        ],
    )


def _piped(messages_file: Any) -> str | None:
    """The text piped on stdin (``None``: a terminal, nothing piped, or stdin was ``--messages -``)."""
    if getattr(messages_file, "name", None) in ("-", "<stdin>") or sys.stdin.isatty():
        return None
    return sys.stdin.read().strip() or None


def _read_messages(
    prompt: str | None, system: str | None, messages_file: Any, *, required: bool = True
) -> list[dict[str, Any]]:
    """The conversation from the options; the prompt is the argument, then any text piped on stdin."""
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    if messages_file is not None:
        try:
            loaded = json.load(messages_file)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--messages") from None
        if isinstance(loaded, dict) and "messages" in loaded:
            loaded = loaded["messages"]
        if not isinstance(loaded, list):
            raise click.BadParameter("expected a JSON list of messages", param_hint="--messages")
        messages.extend(loaded)
    piped = _piped(messages_file) if required else None  # (interactive: stdin is the terminal's)
    if piped is not None:  # after the prompt, as shell tools do: `cat notes.txt | chatpipe chat "Summarize this"`
        prompt = piped if prompt is None else f"{prompt}\n\n{piped}"
    if prompt is not None:
        messages.append({"role": "user", "content": prompt})
    if not messages and required:
        raise click.UsageError("no conversation: give a PROMPT, pipe text on stdin, or use --messages FILE")
    return messages
