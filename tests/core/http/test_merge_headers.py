"""chatpipe.http.merge_headers: case-insensitive overrides and the secret header names."""

from __future__ import annotations

from chatpipe.http import merge_headers

KEY = "sk-test-0123456789"


def test_an_override_replaces_every_spelling_of_its_name_and_keeps_its_own() -> None:
    base = {"Accept": "application/json", "Content-Type": "application/json"}
    headers, _ = merge_headers(base, [("accept", "text/plain"), ("X-Team", 7)])
    assert headers == {"Content-Type": "application/json", "accept": "text/plain", "X-Team": "7"}
    assert base == {"Accept": "application/json", "Content-Type": "application/json"}, "the base is not changed"


def test_secret_names_and_values_carrying_the_key_are_secret() -> None:
    base = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
    _, secret = merge_headers(base, [("api-key", KEY), ("X-Plain", "1")], key=KEY)
    assert secret == {"Authorization", "api-key"}
    _, secret = merge_headers(
        {"x-api-key": KEY}, [("AUTHORIZATION", "Token other")], secret_names=("x-api-key", "authorization")
    )
    assert secret == {"x-api-key", "AUTHORIZATION"}


def test_without_a_key_only_the_secret_names_count() -> None:
    _, secret = merge_headers({"Accept": ""}, [("X-Empty", "")], key="")
    assert secret == frozenset()


def test_request_id_comes_from_the_first_known_header() -> None:
    from chatpipe.http import REQUEST_ID_HEADERS, HttpResponse

    assert REQUEST_ID_HEADERS[0] == "x-request-id"
    assert HttpResponse(200, {"cf-ray": "ray", "request-id": "req"}).request_id == "req"
    assert HttpResponse(200, {"cf-ray": "ray"}).request_id == "ray"
    assert HttpResponse(200, {}).request_id is None
