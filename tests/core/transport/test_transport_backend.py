"""Backend selection (httpx2 first, httpx fallback, env override) and lazy import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from chatpipe._transport import Transport, load_backend
from chatpipe.errors import ConfigError
from chatpipe.http import HttpRequest


def test_importing_the_transport_does_not_import_an_http_library() -> None:
    code = textwrap.dedent(
        """
        import sys
        import chatpipe._transport
        from chatpipe._transport import RetryPolicy, Timeouts, Transport
        Transport(timeouts=Timeouts(), retry=RetryPolicy(), provider="x")
        import chatpipe.http, chatpipe.testing
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"httpx", "httpx2", "httpcore", "httpcore2"})
        print(",".join(loaded) or "none")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "none"


def test_default_prefers_httpx2() -> None:
    assert load_backend().__name__ == "httpx2"


def test_falls_back_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx2", None)  # makes `import httpx2` fail
    assert load_backend().__name__ == "httpx"


@pytest.mark.parametrize("name", ["httpx", "httpx2", "HTTPX2"])
def test_env_var_forces_a_backend(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("CHATPIPE_HTTP_BACKEND", name)
    assert load_backend().__name__ == name.lower()
    assert Transport().backend.__name__ == name.lower()


def test_argument_beats_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATPIPE_HTTP_BACKEND", "httpx")
    assert Transport(backend="httpx2").backend.__name__ == "httpx2"


def test_unknown_backend_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATPIPE_HTTP_BACKEND", "requests")
    with pytest.raises(ConfigError, match=r"unknown HTTP backend 'requests'.*'httpx2' or 'httpx'"):
        Transport().send(HttpRequest("GET", "http://127.0.0.1:9/"), retryable=frozenset())


def test_forced_backend_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.setenv("CHATPIPE_HTTP_BACKEND", "httpx")
    with pytest.raises(ConfigError, match="pip install httpx"):
        load_backend()


def test_no_backend_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.setitem(sys.modules, "httpx2", None)
    with pytest.raises(ConfigError, match="no HTTP library installed: pip install httpx2"):
        load_backend()


def test_backend_name_is_none_until_first_use() -> None:
    transport = Transport()
    assert transport.backend_name is None
    assert transport.backend.__name__ == transport.backend_name
