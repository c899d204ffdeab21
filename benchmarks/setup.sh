#!/usr/bin/env bash
# Create benchmarks/.venv: the benchmark-only environment holding the client libraries chatpipe
# is compared with (the openai SDK, litellm, the anthropic SDK). They are never dependencies of
# chatpipe or of its development environment. Safe to re-run; pass extra pip args through.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || python=python3
if [ ! -x "$here/.venv/bin/python" ]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet "$@" openai litellm anthropic
"$here/.venv/bin/python" -m pip list 2>/dev/null | grep -iE '^(openai|litellm|anthropic|httpx2?|aiohttp) '
