"""chatpipe.cli._words: errors in the CLI's terms, one style for chatpipe's and click's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chatpipe.cli._words import DOCS_URL, error_line
from chatpipe.errors import AuthenticationError, ConfigError

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run([CHATPIPE, *args], input="", capture_output=True, text=True, env=env, timeout=60)


def test_a_setting_given_as_a_flag_is_named_by_the_flag() -> None:
    assert error_line(ConfigError("no default base URL", path="base_url")) == "--base-url: no default base URL"
    # from a config file it keeps its key path, and the file
    from_file = error_line(ConfigError("not a URL", path="profiles.a.base_url", file="c.yaml"))
    assert from_file.startswith("c.yaml: profiles.a.base_url: not a URL")


def test_library_words_become_cli_words() -> None:
    line = error_line(AuthenticationError("no API key: run 'chatpipe keys set x', or pass api_key=...", provider="x"))
    assert line == "x: no API key: run 'chatpipe keys set x', or pass --key KEY"
    assert error_line(ConfigError("see docs/configuration.md#api-keys")) == f"see {DOCS_URL}/configuration/#api-keys"


def test_every_error_is_one_error_line_chatpipes_and_clicks() -> None:
    missing = run("chat", "--provider", "openai", "Hi")
    assert missing.returncode == 4
    assert (
        missing.stderr
        == "error: openai: no API key: run 'chatpipe keys set openai', set OPENAI_API_KEY, or pass --key KEY\n"
    )
    unknown = run("chat", "--bogus")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == ["error: No such option '--bogus'.", "(see: chatpipe chat --help)"]
    no_url = run("chat", "--provider", "custom", "Hi")
    assert no_url.returncode == 3 and no_url.stderr.startswith("error: --base-url: ")


def test_help_ends_with_the_project_addresses_the_packages_name() -> None:
    from chatpipe.cli._words import SOURCE_URL

    text = " ".join(run("--help").stdout.split())
    assert f"Docs: {DOCS_URL}" in text and f"Issues: {SOURCE_URL}/issues" in text
    import tomllib

    urls = tomllib.loads((Path(__file__).resolve().parents[3] / "core" / "pyproject.toml").read_text())["project"][
        "urls"
    ]
    assert urls["Issues"] == f"{SOURCE_URL}/issues" and DOCS_URL.startswith(urls["Documentation"])
