"""safe_url: the one way a URL is shown (no password, no key in the query)."""

from __future__ import annotations

import pytest
from chatpipe.http import HttpRequest, safe_url
from chatpipe.provider import ProviderSettings


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:secret@host:8080/v1", "http://host:8080/v1"),
        ("https://token@host/v1/chat", "https://host/v1/chat"),
        ("https://host/v1?key=abc&x=1", "https://host/v1?key=***&x=1"),
        ("https://host/v1?api-key=abc", "https://host/v1?api-key=***"),
        ("https://host/v1", "https://host/v1"),
        ("http://[::1", "<invalid URL>"),
    ],
)
def test_safe_url(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_it_is_the_plugins_helper_too() -> None:
    import chatpipe.plugin

    assert chatpipe.plugin.safe_url is safe_url


def test_requests_and_settings_show_the_url_without_its_password() -> None:
    url = "http://alice:secret@host/v1/chat/completions"
    request = HttpRequest("POST", url)
    assert request.url == url  # what is sent keeps the credentials
    assert request.redacted()["url"] == "http://host/v1/chat/completions"
    assert "secret" not in repr(request)
    settings = ProviderSettings(base_url="http://alice:secret@host/v1")
    assert settings.base_url == "http://alice:secret@host/v1"
    assert "base_url='http://host/v1'" in repr(settings)
