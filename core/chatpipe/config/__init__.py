"""chatpipe's configuration: ``chatpipe.yaml`` read into frozen attrs classes.

::

    default: claude
    prompt_placeholder: "[Start a new chat]"
    names: {user: Alex, char: Seraphina, group: [Rook, Mina]}
    timeout: {connect: 10, read: 600}
    max_retries: 2
    profiles:
      claude:   {provider: claude, model: claude-sonnet-4-5, converters: [strict]}
      lmstudio: {provider: custom, base_url: "http://127.0.0.1:1234/v1", api_key: "${LMSTUDIO_KEY}"}

* :func:`load_config` finds and reads the file (:func:`find_config_file` gives the order);
  :func:`parse_config` reads a string.
* :class:`Config`, :class:`Profile`, :class:`TimeoutConfig`, :class:`LimitsConfig`,
  :class:`Names`, :class:`ServeConfig`, :class:`StateConfig`, :class:`BudgetConfig`,
  :class:`RouteConfig` (router profiles) and :class:`CooldownConfig` document every key.
* Every error is a :class:`~chatpipe.errors.ConfigError` whose ``path`` is the key path.
* :func:`check_profiles` finds every problem of every profile the way a call would meet it,
  offline (``chatpipe config check``), each a :class:`ProfileCheck`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._discovery import CONFIG_DIR_ENV, CONFIG_ENV, config_candidates, config_dir, find_config_file

if TYPE_CHECKING:
    from ._check import ProfileCheck, check_profiles
    from ._loader import load_config, parse_config
    from ._schema import (
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

# The loader pulls in PyYAML and the cattrs structuring code; import it on first use only,
# so finding the config directory (the key store needs it) stays cheap.
_LAZY = {
    "check_profiles": "chatpipe.config._check:check_profiles",
    "ProfileCheck": "chatpipe.config._check:ProfileCheck",
    "load_config": "chatpipe.config._loader:load_config",
    "parse_config": "chatpipe.config._loader:parse_config",
    "BudgetConfig": "chatpipe.config._schema:BudgetConfig",
    "Config": "chatpipe.config._schema:Config",
    "CooldownConfig": "chatpipe.config._schema:CooldownConfig",
    "LimitsConfig": "chatpipe.config._schema:LimitsConfig",
    "Names": "chatpipe.config._schema:Names",
    "Profile": "chatpipe.config._schema:Profile",
    "RouteConfig": "chatpipe.config._schema:RouteConfig",
    "RouteTarget": "chatpipe.config._schema:RouteTarget",
    "ServeConfig": "chatpipe.config._schema:ServeConfig",
    "StateConfig": "chatpipe.config._schema:StateConfig",
    "TimeoutConfig": "chatpipe.config._schema:TimeoutConfig",
}

__all__ = [
    "CONFIG_DIR_ENV",
    "CONFIG_ENV",
    "BudgetConfig",
    "Config",
    "CooldownConfig",
    "LimitsConfig",
    "Names",
    "Profile",
    "ProfileCheck",
    "RouteConfig",
    "RouteTarget",
    "ServeConfig",
    "StateConfig",
    "TimeoutConfig",
    "check_profiles",
    "config_candidates",
    "config_dir",
    "find_config_file",
    "load_config",
    "parse_config",
]

__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
