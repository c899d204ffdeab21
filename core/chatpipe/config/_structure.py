"""Turn parsed, interpolated YAML into :class:`~._schema.Config`, with key paths in every error.

A ``cattrs`` converter (``forbid_extra_keys``, detailed validation) drives the attrs classes;
strict hooks replace cattrs' lenient scalar coercions (which would turn ``"false"`` into
``True`` and ``2.7`` into ``2``) and implement the documented normalisations. Every failure
is translated into :class:`~._problems.Problem` objects carrying the key path.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, override

from ..models import Prices
from ._problems import EnvStr, Invalid, KeyPath, Problem, Problems, describe, describe_type
from ._schema import (
    BROKEN_PROFILE_POLICIES,
    FALLBACK_CONDITIONS,
    ON_STATE_ERROR,
    ROUTE_STRATEGIES,
    STATE_BACKENDS,
    BudgetConfig,
    Config,
    CooldownConfig,
    LimitsConfig,
    Names,
    Profile,
    RouteConfig,
    RouteTarget,
    ServeConfig,
    StateConfig,
    TimeoutConfig,
)
from ._yaml import YamlSyntaxError, parse_yaml

__all__ = ["structure_config"]

T = TypeVar("T")
Hook = Callable[[Any, Any], Any]

_INT = re.compile(r"[+-]?[0-9]+")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_SIZE = re.compile(r"\s*([0-9]+)\s*([KMG]i?B|B)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
MIN_GATEWAY_KEY = 16
_BOOL_HINT = "; YAML reads unquoted yes/no/on/off/true/false as booleans, so quote the value"


# --- scalars ------------------------------------------------------------------------------


def _string(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return str(value)
    hint = _BOOL_HINT if isinstance(value, bool) else "; quote it" if isinstance(value, (int, float)) else ""
    raise Invalid(f"expected a string, got {describe(value)}{hint}")


def _integer(value: Any, _: Any = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, EnvStr) and _INT.fullmatch(value.strip()):
        return int(value)
    raise Invalid(f"expected an integer, got {describe(value)}")


def _number(value: Any, _: Any = None) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, EnvStr):
        try:
            return float(value)
        except ValueError:
            pass
    raise Invalid(f"expected a number, got {describe(value)}")


def _boolean(value: Any, _: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, EnvStr) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid(f"expected true or false, got {describe(value)}")


def _auto_boolean(value: Any, _: Any = None) -> bool | None:
    """``true``/``false``, or ``auto`` (and null) for ``None``: decided at run time."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    if isinstance(value, (bool, EnvStr)):
        try:
            return _boolean(value)
        except Invalid:
            pass
    raise Invalid(f"expected auto, true or false, got {describe(value)}")


def _at_least(minimum: int) -> Hook:
    def whole(value: Any, _: Any = None) -> int:
        number = _integer(value)
        if number < minimum:
            raise Invalid(f"must be {minimum} or more, got {number}")
        return number

    return whole


_non_negative_int = _at_least(0)
_positive_int = _at_least(1)


def _seconds(value: Any, _: Any = None) -> float:
    seconds = _number(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise Invalid(f"must be a positive number of seconds, got {describe(value)}")
    return seconds


def _non_empty(value: Any, _: Any = None) -> str:
    text = _string(value)
    if not text.strip():
        raise Invalid("must not be empty")
    return text


def _optional_text(value: Any, _: Any = None) -> str | None:
    """Optional text where an empty string means unset (so ``${VAR:-}`` makes it optional)."""
    if value is None:
        return None
    return _string(value) or None


def _optional(hook: Hook) -> Hook:
    def optional(value: Any, type_: Any = None) -> Any:
        return None if value is None else hook(value, type_)

    return optional


def _api_key(value: Any, _: Any = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {describe_type(value)} (value not shown); quote it")
    return str(value) or None


def _base_url(value: Any, _: Any = None) -> str | None:
    url = _optional_text(value)
    if url is None:
        return None
    problem = "not a URL (expected http://host[:port]/path)"
    if any(char.isspace() for char in url):
        raise Invalid(f"{problem}; it contains whitespace")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise Invalid(f"{problem}; the port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https"):
        raise Invalid(f"{problem}; it must start with http:// or https://")
    if not parts.hostname:
        raise Invalid(f"{problem}; the host is missing")
    return url


def _host(value: Any, _: Any = None) -> str:
    host = _non_empty(value).strip()
    if any(char.isspace() for char in host) or "/" in host:
        raise Invalid(f"expected a host name or IP address (e.g. 127.0.0.1 or 0.0.0.0), got {describe(value)}")
    return host


def _port(value: Any, _: Any = None) -> int:
    port = _integer(value)
    if not 1 <= port <= 65535:
        raise Invalid(f"a port is a whole number from 1 to 65535, got {port}")
    return port


def _byte_size(value: Any, _: Any = None) -> int:
    """A size in bytes: a positive integer, or text such as ``20MB`` / ``16MiB``."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value)):
        size = int(match[1]) * _SIZE_UNITS[(match[2] or "").lower()]
    else:
        raise Invalid(f"expected a number of bytes or a size such as 20MB or 16MiB, got {describe(value)}")
    if size <= 0:
        raise Invalid(f"must be more than 0 bytes, got {describe(value)}")
    return size


def _gateway_keys(value: Any, _: Any = None) -> tuple[str, ...]:
    """Gateway keys: a list of strings or one string; empty ones dropped; never echoed."""
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise Invalid(f"expected a key or a list of keys, got {describe_type(value)} (value not shown)")
    keys: list[str] = []
    for i, item in enumerate(items):
        if item is None or item == "":
            continue
        if not isinstance(item, str):
            raise Invalid(f"expected a string, got {describe_type(item)} (value not shown); quote it", at=(i,))
        if len(item.strip()) < MIN_GATEWAY_KEY:
            raise Invalid(
                f"a gateway key must be at least {MIN_GATEWAY_KEY} characters (value not shown); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                at=(i,),
            )
        keys.append(str(item.strip()))
    return tuple(dict.fromkeys(keys))


def _labelled_gateway_keys(value: Mapping[Any, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``keys: {label: key}``: the keys and their labels, in order; empty keys dropped with their label."""
    keys: list[str] = []
    labels: list[str] = []
    problems: list[Problem] = []
    for label, item in value.items():
        if not isinstance(label, str) or not label.strip():
            problems.append(Problem((), f"a key label must be a non-empty string, got {describe(label)}"))
            continue
        try:
            found = _gateway_keys(item)
        except Problems as exc:
            problems.extend(Problem((label,), p.message) for p in exc.problems)
            continue
        if isinstance(item, list):
            problems.append(Problem((label,), "expected one key per label, got a list (value not shown)"))
        elif found and found[0] in keys:
            problems.append(Problem((label,), f"the same key as label {labels[keys.index(found[0])]!r}; use one label"))
        elif found:
            keys.append(found[0])
            labels.append(label)
    if problems:
        raise Problems(problems)
    return tuple(keys), tuple(labels)


def _serve(inner: Hook) -> Hook:
    """The ``serve`` hook, with ``keys`` also given as a mapping of label to key (``key_labels``)."""

    def serve(value: Any, type_: Any = None) -> ServeConfig:
        if not isinstance(value, Mapping) or not isinstance(value.get("keys"), Mapping):
            result: ServeConfig = inner(value, type_)
            return result
        try:
            keys, labels = _labelled_gateway_keys(value["keys"])
        except Problems as exc:
            raise Problems([p.under(("keys",)) for p in exc.problems]) from None
        structured: ServeConfig = inner({**value, "keys": list(keys)}, type_)
        return attrs.evolve(structured, key_labels=labels)

    return serve


_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_PERIOD_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _period(value: Any, _: Any = None) -> float:
    """A budget period: seconds, or a string like ``30s``, ``15m``, ``1h``, ``1d``, ``7d``, ``1w``."""
    if isinstance(value, str) and not isinstance(value, bool):
        match = _PERIOD.match(value)
        if match is None:
            raise Invalid(
                f"expected a period like 30s, 15m, 1h, 1d, 7d, 1w or a number of seconds, got {describe(value)}"
            )
        seconds = float(match[1]) * _PERIOD_UNITS[match[2]]
        if seconds <= 0:
            raise Invalid(f"must be a positive period, got {describe(value)}")
        return seconds
    return _seconds(value)


def _positive_usd(value: Any, _: Any = None) -> float:
    usd = _number(value)
    if not math.isfinite(usd) or usd <= 0:
        raise Invalid(f"must be a positive amount of USD, got {describe(value)}")
    return usd


def _budgets(converter: cattrs.Converter) -> Hook:
    def budgets(value: Any, _: Any = None) -> dict[str, BudgetConfig]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping of key label or profile name to a budget, got {describe(value)}")
        _string_keys(value, "budget names")
        out: dict[str, BudgetConfig] = {}
        problems: list[Problem] = []
        for name, body in value.items():
            try:
                budget = converter.structure(body, BudgetConfig)
            except Exception as exc:  # translated into problems with key paths
                problems.extend(translate(exc, (name,)))
                continue
            if budget.tokens is None and budget.usd is None:
                problems.append(Problem((name,), "a budget needs tokens or usd (or both), e.g. {usd: 50, period: 1d}"))
            else:
                out[name] = budget
        if problems:
            raise Problems(problems)
        return out

    return budgets


def _budget_problems(config: Config) -> list[Problem]:
    """Every budget names one gateway key label or one profile."""
    labels = [label for label, _ in config.serve.labelled_keys()]
    found = []
    for name in config.budgets:
        if name in labels and name in config.profiles:
            found.append(
                Problem(("budgets", name), f"{name!r} is both a gateway key label and a profile; rename the label")
            )
        elif name not in labels and name not in config.profiles:
            close = difflib.get_close_matches(name, [*labels, *config.profiles], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            found.append(
                Problem(
                    ("budgets", name),
                    f"no gateway key label or profile named {name!r}; {hint}"
                    f"key labels: {', '.join(labels) or '(none)'}; profiles: {', '.join(config.profiles) or '(none)'}",
                )
            )
    return found


# --- collections ----------------------------------------------------------------------------


def _string_keys(value: Mapping[Any, Any], what: str = "keys") -> None:
    for key in value:
        if not isinstance(key, str):
            raise Invalid(f"{what} must be strings, got {describe(key)}")


def _json(value: Any, at: KeyPath) -> Any:
    """A plain JSON-compatible copy of ``value``; :class:`Invalid` at the bad item otherwise."""
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid(f"{value!r} cannot be sent as JSON (no NaN or infinity)", at=at)
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise Invalid(f"keys must be strings, got {describe(key)}", at=at)
            out[key] = _json(item, (*at, key))
        return out
    if isinstance(value, list):
        return [_json(item, (*at, i)) for i, item in enumerate(value)]
    raise Invalid(f"{describe(value)} cannot be sent as JSON; quote it to send it as text", at=at)


def _json_mapping(value: Any, _: Any = None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping, got {describe(value)}")
    result: dict[str, Any] = _json(value, ())
    return result


def _yaml_text(text: str, what: str) -> Any:
    try:
        return parse_yaml(text)
    except YamlSyntaxError as exc:
        raise Invalid(f"{what} is not valid YAML ({exc})") from None


def _name_list(what: str) -> Hook:
    """A tuple of non-empty names from a list of names or a single name (empty: none)."""

    def names(value: Any, _: Any = None) -> tuple[str, ...]:
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            return (str(value),)
        if not isinstance(value, list):
            raise Invalid(f"expected a {what} or a list of them, got {describe(value)}")
        out: list[str] = []
        for i, item in enumerate(value):
            try:
                out.append(_non_empty(item))
            except Invalid as exc:
                raise Invalid(exc.problems[0].message, at=(i,)) from None
        return tuple(out)

    return names


def _headers(value: Any, _: Any = None) -> dict[str, str]:
    if isinstance(value, str):
        value = _yaml_text(value, "the headers text")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of header name to value, got {describe(value)}")
    _string_keys(value, "header names")
    out: dict[str, str] = {}
    for name, item in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise Invalid("not a valid HTTP header name (letters, digits and -, no spaces or colons)", at=(name,))
        if isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, (str, int, float)):
            text = str(item)
        else:
            raise Invalid(f"header values must be text or numbers, got {describe_type(item)}", at=(name,))
        if "\r" in text or "\n" in text or "\0" in text:
            raise Invalid("header values must not contain line breaks", at=(name,))
        out[str(name)] = text
    return out


def _include_body(value: Any, _: Any = None) -> dict[str, Any]:
    if isinstance(value, str):
        value = _yaml_text(value, "the include_body text")
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return _json_mapping(value)
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise Invalid(f"every item must be a mapping of body keys, got {describe(item)}", at=(i,))
            try:
                merged.update(_json_mapping(item))
            except Invalid as exc:
                raise Problems([p.under((i,)) for p in exc.problems]) from None
        return merged
    raise Invalid(f"expected a mapping or a list of mappings, got {describe(value)}")


def _exclude_body(value: Any, _: Any = None) -> tuple[str, ...]:
    if isinstance(value, str):
        parsed = _yaml_text(value, "the exclude_body text") if value.strip() else None
        # A scalar is one key name, taken verbatim (``on`` or ``123`` stay text).
        value = parsed if isinstance(parsed, (list, Mapping)) else value.strip() or None
        if isinstance(value, str):
            return (value,)
    if value is None:
        return ()
    if isinstance(value, Mapping):
        _string_keys(value, "key names")
        value = list(value)
    if not isinstance(value, list):
        raise Invalid(f"expected a key name, a list of key names or a mapping, got {describe(value)}")
    keys = _name_list("key name")(value, None)
    return tuple(dict.fromkeys(keys))


# --- routing --------------------------------------------------------------------------------


def _one_of(choices: tuple[str, ...], what: str) -> Hook:
    def one(value: Any, _: Any = None) -> str:
        text = _non_empty(value)
        if text not in choices:
            close = difflib.get_close_matches(text, choices, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise Invalid(f"unknown {what} {text!r}; {hint}valid: {', '.join(choices)}")
        return text

    return one


def _fallback_on(value: Any, _: Any = None) -> tuple[str, ...]:
    names: tuple[str, ...] = _name_list("failure name")(value, None)
    check = _one_of(tuple(FALLBACK_CONDITIONS), "failure name")
    for i, name in enumerate(names):
        try:
            check(name, None)
        except Invalid as exc:
            raise Invalid(exc.problems[0].message, at=(i,)) from None
    return tuple(dict.fromkeys(names))


def _non_negative_seconds(value: Any, _: Any = None) -> float:
    seconds = _number(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise Invalid(f"expected a number of seconds, 0 or more, got {describe(value)}")
    return seconds


def _fraction(value: Any, _: Any = None) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise Invalid(f"expected a number from 0 to 1, got {describe(value)}")
    return number


def _state_url(value: Any, _: Any = None) -> str | None:
    if value is None:
        return None
    url = _non_empty(value)
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss", "unix"}:
        raise Invalid("expected a Redis URL: redis://host:port/db, rediss://... (TLS) or unix:///path.sock")
    return url


def _weight(value: Any, _: Any = None) -> float:
    weight = _number(value)
    if not math.isfinite(weight) or weight <= 0:
        raise Invalid(f"a weight is a positive number, got {describe(value)}")
    return weight


def _rate(value: Any, _: Any = None) -> Decimal:
    rate = _number(value)
    if not math.isfinite(rate) or rate < 0:
        raise Invalid(f"must be a non-negative number of USD per million tokens, got {describe(value)}")
    return Decimal(repr(rate))


_RATE_KEYS = ("input", "output", "cached_input", "cache_write")


def _rates(value: Any, *, models: bool) -> Prices:
    """A ``prices`` mapping as :class:`Prices` (``models``: the profile level, which may hold per-model rates)."""
    allowed = (*_RATE_KEYS, "models") if models else _RATE_KEYS
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping {{{', '.join(allowed)}}}, got {describe(value)}")
    _string_keys(value)
    problems: list[Problem] = []
    for key in value:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(allowed)}"
            problems.append(Problem((str(key),), f"unknown key; {hint}"))
    rates: dict[str, Decimal | None] = {}
    for key in _RATE_KEYS:
        try:
            rates[key] = None if value.get(key) is None else _rate(value[key])
        except Problems as exc:
            problems.extend(p.under((key,)) for p in exc.problems)
    missing = [key for key in ("input", "output") if value.get(key) is None]
    if missing and (not models or len(missing) == 1):
        need = "a model's rates need 'input' and 'output'" if not models else "give 'input' and 'output' together"
        problems.extend(Problem((key,), f"required: {need}") for key in missing)
    per_model: dict[str, Prices] = {}
    listed = value.get("models") if models else None
    if listed is not None and not isinstance(listed, Mapping):
        problems.append(Problem(("models",), f"expected a mapping of model id to rates, got {describe(listed)}"))
    elif listed is not None:
        for name, body in listed.items():
            if not isinstance(name, str) or not name.strip():
                problems.append(Problem(("models",), f"model ids must be non-empty strings, got {describe(name)}"))
                continue
            try:
                per_model[name] = _rates(body, models=False)
            except Problems as exc:
                problems.extend(p.under(("models", name)) for p in exc.problems)
    if problems:
        raise Problems(problems)
    return Prices(**rates, models=per_model)


def _prices(value: Any, _: Any = None) -> Prices | None:
    return None if value is None else _rates(value, models=True)


def _route_targets(converter: cattrs.Converter) -> Hook:
    def targets(value: Any, _: Any = None) -> tuple[RouteTarget, ...]:
        if not isinstance(value, list) or not value:
            raise Invalid(f"expected a non-empty list of profile names (or {{profile, weight}}), got {describe(value)}")
        out: list[RouteTarget] = []
        problems: list[Problem] = []
        for i, item in enumerate(value):
            try:
                target = (
                    RouteTarget(_non_empty(item)) if isinstance(item, str) else converter.structure(item, RouteTarget)
                )
            except Exception as exc:  # translated into problems with key paths
                problems.extend(translate(exc, (i,)))
                continue
            if any(seen.profile == target.profile for seen in out):
                problems.append(Problem((i,), f"{target.profile!r} is already a target of this router; name it once"))
            out.append(target)
        if problems:
            raise Problems(problems)
        return tuple(out)

    return targets


def _profile_keys(body: Any) -> list[Problem]:
    """A profile has ``provider`` or ``route`` (never both); a router profile nothing else."""
    if not isinstance(body, Mapping):
        return []
    if "route" not in body:
        if "provider" in body:
            return []
        return [
            Problem(
                ("provider",),
                "required key is missing; every profile needs one, e.g. provider: openai "
                "(or route: {targets: [...]} for a router profile)",
            )
        ]
    if "provider" in body:
        return [
            Problem(
                ("route",),
                "a profile has either 'provider' or 'route', not both; a router profile "
                "names other profiles in route.targets",
            )
        ]
    return [
        Problem((str(key),), "not used by a router profile; set it on its target profiles")
        for key in body
        if key not in ("route", "observers") and key in _ALLOWED_KEYS[Profile]
    ]


def _route_problems(profiles: Mapping[str, Profile]) -> list[Problem]:
    """Targets and context fallbacks name existing profiles, and no router reaches itself."""
    problems: list[Problem] = []
    names = list(profiles)
    edges: dict[str, list[str]] = {}
    for name, profile in profiles.items():
        if profile.route is None:
            continue
        named = [("targets", i, t.profile) for i, t in enumerate(profile.route.targets)]
        named += [("context_fallbacks", i, n) for i, n in enumerate(profile.route.context_fallbacks)]
        for key, i, target in named:
            if target not in profiles:
                close = difflib.get_close_matches(target, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    Problem(
                        ("profiles", name, "route", key, i),
                        f"no profile named {target!r}{hint} (profiles: {', '.join(names)})",
                    )
                )
        edges[name] = [target for _, _, target in named if target in profiles]
    reported: set[frozenset[str]] = set()
    for start in edges:
        loop = _loop_from(start, edges)
        if loop is not None and frozenset(loop) not in reported:
            reported.add(frozenset(loop))
            problems.append(
                Problem(
                    ("profiles", start, "route"),
                    f"a routing loop: {' -> '.join([*loop, loop[0]])}; a router "
                    "may not reach itself through its targets",
                )
            )
    return problems


def _state_problems(config: Config) -> list[Problem]:
    """A Redis state has a URL; every rate limit admits at least one call (or token) per window."""
    found = []
    if config.state.backend == "redis" and config.state.url is None:
        found.append(Problem(("state", "url"), "state.backend 'redis' needs a url, e.g. redis://127.0.0.1:6379/0"))
    places: list[tuple[KeyPath, LimitsConfig]] = [(("limits",), config.limits)]
    places += [(("profiles", name, "limits"), p.limits) for name, p in config.profiles.items() if p.limits]
    for path, limits in places:
        for key in ("rpm", "tpm"):
            per_minute = getattr(limits, key)
            if per_minute is not None and per_minute * limits.window / 60 < 1:
                found.append(
                    Problem(
                        (*path, key),
                        f"{key} {per_minute} over a window of {limits.window:g} s admits less than one per window; "
                        "raise it or lengthen limits.window",
                    )
                )
    return found


def _loop_from(start: str, edges: Mapping[str, list[str]]) -> list[str] | None:
    """The routers of a loop through ``start`` (in order, ``start`` first), or ``None``."""
    path = [start]

    def walk(node: str, seen: set[str]) -> list[str] | None:
        for nxt in edges.get(node, ()):
            if nxt == start:
                return list(path)
            if nxt in seen or nxt not in edges:
                continue
            seen.add(nxt)
            path.append(nxt)
            found = walk(nxt, seen)
            if found is not None:
                return found
            path.pop()
        return None

    return walk(start, {start})


# --- classes --------------------------------------------------------------------------------


_NOT_YAML = {(Config, "source"), (ServeConfig, "key_labels")}
_ALLOWED_KEYS: dict[type, tuple[str, ...]] = {
    cls: tuple(a.name for a in attrs.fields(cls) if (cls, a.name) not in _NOT_YAML)
    for cls in (
        Config,
        Profile,
        Names,
        TimeoutConfig,
        LimitsConfig,
        ServeConfig,
        StateConfig,
        BudgetConfig,
        RouteConfig,
        RouteTarget,
        CooldownConfig,
    )
}
_REQUIRED_HINT: dict[KeyPath, str] = {
    ("targets",): "a router needs targets: [profile, ...]",
    ("profile",): "name the target profile: {profile: NAME, weight: 1}",
}


def _class_hook(
    converter: cattrs.Converter,
    cls: type[T],
    *,
    expected: str,
    null_is_default: bool,
    shorthand: Hook | None = None,
    **overrides: Any,
) -> Hook:
    inner = make_dict_structure_fn(cls, converter, **overrides)

    def hook(value: Any, _: Any = None) -> T:
        if value is None and null_is_default:
            return cls()
        if shorthand is not None and value is not None and not isinstance(value, Mapping):
            result: T = shorthand(value, cls)
            return result
        if not isinstance(value, Mapping):
            raise Invalid(f"expected {expected}, got {describe(value)}")
        _string_keys(value)
        return inner(value, cls)

    return hook


def _timeout_shorthand(value: Any, _: Any = None) -> TimeoutConfig:
    if isinstance(value, bool) or not isinstance(value, (int, float, EnvStr)):
        raise Invalid(f"expected a mapping {{connect, read}} or a number of seconds, got {describe(value)}")
    seconds = _seconds(value)
    return TimeoutConfig(connect=seconds, read=seconds)


def _profiles(converter: cattrs.Converter) -> Hook:
    def profiles(value: Any, _: Any = None) -> dict[str, Profile]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping of profile name to settings, got {describe(value)}")
        out: dict[str, Profile] = {}
        problems: list[Problem] = []
        for name, body in value.items():
            if not isinstance(name, str):
                problems.append(Problem((), f"profile names must be strings, got {describe(name)}"))
            elif not name.strip():
                problems.append(Problem((), "a profile name is empty; give every profile a name"))
            else:
                shape = [p.under((name,)) for p in _profile_keys(body)]
                problems.extend(shape)
                try:
                    out[name] = converter.structure(body, Profile)
                except Exception as exc:  # translated into problems with key paths
                    problems.extend(p for p in translate(exc, (name,)) if p not in shape)
        if problems:
            raise Problems(problems)
        return out

    return profiles


@cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook(float, _number)
    converter.register_structure_hook(bool, _boolean)
    timeout = _class_hook(
        converter,
        TimeoutConfig,
        expected="a mapping {connect, read} or a number of seconds",
        null_is_default=True,
        shorthand=_timeout_shorthand,
        connect=override(struct_hook=_seconds),
        read=override(struct_hook=_seconds),
        deadline=override(struct_hook=_optional(_seconds)),
        stream_progress=override(struct_hook=_optional(_seconds)),
        stream_deadline=override(struct_hook=_optional(_seconds)),
    )
    converter.register_structure_hook(TimeoutConfig, timeout)
    limits = _class_hook(
        converter,
        LimitsConfig,
        expected="a mapping {max_event_bytes, max_body_bytes, rpm, tpm, concurrency, window, max_wait}",
        null_is_default=True,
        max_event_bytes=override(struct_hook=_byte_size),
        max_body_bytes=override(struct_hook=_byte_size),
        rpm=override(struct_hook=_optional(_positive_int)),
        tpm=override(struct_hook=_optional(_positive_int)),
        concurrency=override(struct_hook=_optional(_positive_int)),
        window=override(struct_hook=_seconds),
        max_wait=override(struct_hook=_non_negative_seconds),
    )
    converter.register_structure_hook(LimitsConfig, limits)
    names = _class_hook(
        converter,
        Names,
        expected="a mapping {user, char, group}",
        null_is_default=True,
        group=override(struct_hook=_name_list("name")),
    )
    converter.register_structure_hook(Names, names)
    target = _class_hook(
        converter,
        RouteTarget,
        expected="a profile name or a mapping {profile, weight}",
        null_is_default=False,
        profile=override(struct_hook=_non_empty),
        weight=override(struct_hook=_weight),
    )
    converter.register_structure_hook(RouteTarget, target)
    cooldown = _class_hook(
        converter,
        CooldownConfig,
        expected="a mapping {failures, window, duration}, or null to turn cooldowns off",
        null_is_default=False,
        failures=override(struct_hook=_positive_int),
        window=override(struct_hook=_seconds),
        duration=override(struct_hook=_seconds),
    )
    route = _class_hook(
        converter,
        RouteConfig,
        expected="a mapping {strategy, targets, fallback_on, context_fallbacks}",
        null_is_default=False,
        strategy=override(struct_hook=_one_of(ROUTE_STRATEGIES, "strategy")),
        targets=override(struct_hook=_route_targets(converter)),
        fallback_on=override(struct_hook=_fallback_on),
        context_fallbacks=override(struct_hook=_name_list("profile name")),
        cooldown=override(struct_hook=_optional(cooldown)),
        explore=override(struct_hook=_fraction),
    )
    converter.register_structure_hook(RouteConfig, route)
    profile = _class_hook(
        converter,
        Profile,
        expected="a mapping of settings with at least 'provider' (or 'route')",
        null_is_default=False,
        provider=override(struct_hook=_non_empty),
        route=override(struct_hook=_optional(route)),
        model=override(struct_hook=_optional_text),
        base_url=override(struct_hook=_base_url),
        api_key=override(struct_hook=_api_key),
        converters=override(struct_hook=_name_list("converter name")),
        params=override(struct_hook=_json_mapping),
        headers=override(struct_hook=_headers),
        include_body=override(struct_hook=_include_body),
        exclude_body=override(struct_hook=_exclude_body),
        options=override(struct_hook=_json_mapping),
        max_retries=override(struct_hook=_optional(_non_negative_int)),
        observers=override(struct_hook=_name_list("observer name")),
        prices=override(struct_hook=_prices),
    )
    converter.register_structure_hook(Profile, profile)
    serve = _class_hook(
        converter,
        ServeConfig,
        expected="a mapping of gateway settings (host, port, keys...)",
        null_is_default=True,
        host=override(struct_hook=_host),
        port=override(struct_hook=_port),
        keys=override(struct_hook=_gateway_keys),
        max_body_size=override(struct_hook=_byte_size),
        request_timeout=override(struct_hook=_seconds),
        shutdown_timeout=override(struct_hook=_seconds),
        metrics=override(struct_hook=_auto_boolean),
        metrics_keys=override(struct_hook=_gateway_keys),
        broken_profiles=override(struct_hook=_one_of(BROKEN_PROFILE_POLICIES, "broken_profiles")),
        key_labels=override(omit=True),
    )
    converter.register_structure_hook(ServeConfig, _serve(serve))
    budget = _class_hook(
        converter,
        BudgetConfig,
        expected="a mapping {tokens, usd, period}",
        null_is_default=False,
        tokens=override(struct_hook=_optional(_positive_int)),
        usd=override(struct_hook=_optional(_positive_usd)),
        period=override(struct_hook=_period),
    )
    converter.register_structure_hook(BudgetConfig, budget)
    state = _class_hook(
        converter,
        StateConfig,
        expected="a mapping {backend, url, prefix, timeout, on_state_error}",
        null_is_default=True,
        backend=override(struct_hook=_one_of(STATE_BACKENDS, "state backend")),
        url=override(struct_hook=_state_url),
        prefix=override(struct_hook=_non_empty),
        timeout=override(struct_hook=_seconds),
        on_state_error=override(struct_hook=_one_of(ON_STATE_ERROR, "on_state_error value")),
    )
    converter.register_structure_hook(StateConfig, state)
    config = _class_hook(
        converter,
        Config,
        expected="a mapping",
        null_is_default=True,
        profiles=override(struct_hook=_profiles(converter)),
        budgets=override(struct_hook=_budgets(converter)),
        max_retries=override(struct_hook=_non_negative_int),
        observers=override(struct_hook=_name_list("observer name")),
        plugins=override(struct_hook=_name_list("plugin name")),
        source=override(omit=True),
    )
    converter.register_structure_hook(Config, config)
    return converter


# --- errors -----------------------------------------------------------------------------------


def _unknown_key(key: str, cls: type) -> str:
    allowed = _ALLOWED_KEYS.get(cls, ())
    if cls is Config and key in _ALLOWED_KEYS[Profile]:
        return f"unknown key; {key!r} is a profile setting: put it under profiles.<name>"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; valid keys: {', '.join(allowed)}"


def translate(exc: BaseException, path: KeyPath) -> list[Problem]:
    """The problems ``exc`` (from structuring the value at ``path``) describes, with key paths."""
    if isinstance(exc, Problems):
        return [p.under(path) for p in exc.problems]
    if isinstance(exc, ClassValidationError):
        found: list[Problem] = []
        with_notes, without_notes = exc.group_exceptions()
        for sub, note in with_notes:
            found.extend(translate(sub, (*path, note.name)))
        for sub in without_notes:
            found.extend(translate(sub, path))
        return found
    if isinstance(exc, IterableValidationError):
        found = []
        items, others = exc.group_exceptions()
        for sub, item_note in items:
            index = item_note.index
            found.extend(translate(sub, (*path, index if isinstance(index, (int, str)) else repr(index))))
        for sub in others:
            found.extend(translate(sub, path))
        return found
    if isinstance(exc, ForbiddenExtraKeysError):
        return [Problem((*path, str(key)), _unknown_key(str(key), exc.cl)) for key in sorted(exc.extra_fields, key=str)]
    if isinstance(exc, KeyError):
        hint = _REQUIRED_HINT.get(path[-1:], "")
        return [Problem(path, f"required key is missing{'; ' + hint if hint else ''}")]
    return [Problem(path, f"invalid value ({type(exc).__name__})")]


def structure_config(data: Mapping[str, Any]) -> Config:
    """The :class:`Config` for interpolated YAML ``data``; :class:`Problems` when it is invalid.

    Beyond the per-key checks, ``default`` must name a profile, and a router's targets must
    name profiles without a loop.
    """
    try:
        config: Config = _converter().structure(data, Config)
    except Exception as exc:  # every failure becomes problems with key paths
        raise Problems(translate(exc, ())) from None
    found = [*_route_problems(config.profiles), *_state_problems(config), *_budget_problems(config)]
    if found:
        raise Problems(found)
    if config.default is not None and config.default not in config.profiles:
        close = difflib.get_close_matches(config.default, list(config.profiles), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = f"profiles: {', '.join(config.profiles)}" if config.profiles else "no profiles are defined"
        raise Invalid(f"no profile named {config.default!r}{hint} ({listing})", at=("default",))
    return config
