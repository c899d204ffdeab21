"""chatpipe on Ray Data: a Dataset of conversations mapped to chat completions across a cluster.

::

    import ray
    from chatpipe_ray import PipelineSpec, chat_completions

    spec = PipelineSpec.from_file("chatpipe.yaml", "fast")   # key-free, picklable
    ds = ray.data.read_text("questions.jsonl")               # one conversation per line
    chat_completions(ds, spec, actors=4, concurrency=16).write_json("answers/")

* :class:`PipelineSpec`: the profile and the config's raw YAML; built on each worker.
* :class:`ChatCompletions`: the callable class for ``Dataset.map_batches``.
* :func:`chat_completions`: ``map_batches`` with it, in one call.

See docs/ray.md.
"""

from __future__ import annotations

from ._actor import DEFAULT_ACTORS, DEFAULT_CONCURRENCY, ChatCompletions, chat_completions
from ._rows import OUTPUT_SCHEMA
from ._spec import PipelineSpec

__all__ = [
    "DEFAULT_ACTORS",
    "DEFAULT_CONCURRENCY",
    "OUTPUT_SCHEMA",
    "ChatCompletions",
    "PipelineSpec",
    "chat_completions",
]
