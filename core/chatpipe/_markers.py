"""The pluggy markers. Plugin authors import ``chatpipe.hookimpl``; nothing else."""

import pluggy

PROJECT_NAME = "chatpipe"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
