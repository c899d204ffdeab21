"""``chatpipe chat -i``: a conversation at the terminal.

Each line typed is a user turn; the reply streams as it arrives and joins the conversation,
which is sent whole with every turn (and logged, as ``chat`` logs). Line editing and history
come from ``readline`` where Python has it. A line of just ``\"\"\"`` starts a multi-line
message, ended by another such line. Ctrl-C during a reply stops it (what arrived stays in
the conversation) and returns to the prompt; Ctrl-C at the prompt clears the line; Ctrl-D or
``/exit`` leaves. Commands (:data:`HELP`) change the system prompt, model, profile or
converters mid-conversation; the pipeline is rebuilt, the conversation kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..config import Config
    from ..pipeline import Pipeline
    from ._options import PipelineChoice

__all__ = ["HELP", "Session"]

HELP = """commands:
  /system TEXT       set the system prompt (/system alone removes it)
  /model NAME        use another model of the profile's vendor
  /profile NAME      use another profile (or provider)
  /converter A,B     use this converter chain (/converter alone: the profile's)
  /clear             start a new conversation
  /exit              leave (or Ctrl-D)
a line of just \"\"\" starts and ends a multi-line message; Ctrl-C stops a reply"""

_FENCE = '"""'


class Session:
    """One interactive conversation on ``choice``'s pipeline.

    ``config`` is the loaded config the pipeline is built (and rebuilt) from;
    ``keep(pipe, new_messages, response)`` records each exchange (the chat log), ``restart()``
    starts a new logged conversation, ``logged`` says the conversation is logged already (a
    continued one); ``messages`` are the conversation so far (sent before each new turn),
    ``system`` its system prompt.
    """

    def __init__(
        self,
        choice: PipelineChoice,
        messages: list[dict[str, Any]],
        config: Config,
        *,
        keep: Callable[[Any, list[dict[str, Any]], Any], None],
        restart: Callable[[], None],
        reasoning: bool,
        logged: bool = False,
    ) -> None:
        self.choice = choice
        self.system = next((m["content"] for m in messages if m.get("role") == "system"), None)
        self.messages = [m for m in messages if m.get("role") != "system"]
        self._keep, self._restart, self._reasoning = keep, restart, reasoning
        self._logged = logged  # whether the conversation is in the log already (its system prompt too)
        self._config = config  # read once: the pipeline is rebuilt from it by /model, /profile, /converter
        self.pipe: Pipeline = choice.build(config)

    def run(self) -> None:
        """Read turns until Ctrl-D or ``/exit``."""
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:  # pragma: no cover - Python without readline (Windows)
            pass
        self._say(f"chatpipe chat: {self._who()}; /help for commands, Ctrl-D to leave")
        if self.messages and self.messages[-1].get("role") == "user":
            self._turn([])  # a prompt given on the command line: answer it first
        try:
            while True:
                text = self._read()
                if text is None:
                    break
                if text.startswith("/"):
                    if not self._command(text):
                        break
                elif text.strip():
                    self._turn([{"role": "user", "content": text}])
        finally:
            self.pipe.close()

    # --- input ------------------------------------------------------------------------------

    def _read(self) -> str | None:
        """The next message or command (``None``: leave)."""
        while True:
            try:
                line = input("> ")
            except EOFError:
                click.echo("")
                return None
            except KeyboardInterrupt:
                click.echo("")
                continue
            if line.strip() != _FENCE:
                return line
            lines: list[str] = []
            try:
                while (more := input("… ")).strip() != _FENCE:
                    lines.append(more)
            except EOFError:
                pass
            except KeyboardInterrupt:
                click.echo("")
                continue
            return "\n".join(lines)

    # --- a turn -----------------------------------------------------------------------------

    def _sent(self) -> list[dict[str, Any]]:
        system = [{"role": "system", "content": self.system}] if self.system else []
        return [*system, *self.messages]

    def _turn(self, new: list[dict[str, Any]]) -> None:
        from ..errors import ChatpipeError
        from ._chat import print_stream

        self.messages.extend(new)
        stream = self.pipe.stream(self._sent())
        try:
            response = print_stream(stream, self.pipe, self._reasoning)
        except KeyboardInterrupt:
            stream.close()
            click.echo("")
            self._say("[stopped]")
            if stream.text:  # what arrived stays in the conversation
                self.messages.append({"role": "assistant", "content": stream.text})
            return
        except ChatpipeError as exc:
            click.secho(f"error: {exc}", err=True, fg="red")
            del self.messages[len(self.messages) - len(new) :]  # that turn did not happen
            return
        self.messages.append({"role": "assistant", "content": response.text})
        logged = new or self.messages[-2:-1]  # (a prompt from the command line was already in messages)
        if not self._logged and self.system:
            logged = [{"role": "system", "content": self.system}, *logged]
        self._keep(self.pipe, logged, response)
        self._logged = True

    # --- commands ---------------------------------------------------------------------------

    def _command(self, text: str) -> bool:
        """Run ``/command args``; ``False`` to leave."""
        name, _, argument = text[1:].partition(" ")
        argument = argument.strip()
        if name in ("exit", "quit"):
            return False
        if name == "help":
            self._say(HELP)
        elif name == "system":
            self.system = argument or None
            self._say(f"system prompt: {argument!r}" if argument else "system prompt removed")
        elif name == "clear":
            self.messages = []
            self._logged = False
            self._restart()
            self._say("new conversation")
        elif name == "model":
            self._rebuild(self.choice._replace(model=argument or None))
        elif name == "profile":
            self._rebuild(self.choice._replace(profile=argument or None, provider=None, model=None))
        elif name == "converter":
            names = tuple(n.strip() for n in argument.split(",") if n.strip())
            self._rebuild(self.choice._replace(converters=names))
        else:
            self._say(f"unknown command /{name}; /help lists them")
        return True

    def _rebuild(self, choice: PipelineChoice) -> None:
        from ..errors import ChatpipeError

        try:
            pipe = choice.build(self._config)
        except (ChatpipeError, click.ClickException) as exc:
            click.secho(f"error: {exc}", err=True, fg="red")
            return
        self.pipe.close()
        self.pipe, self.choice = pipe, choice
        self._say(self._who())

    def _who(self) -> str:
        pipe = self.pipe
        profile = getattr(pipe, "profile", None)
        model = getattr(pipe, "model", None)
        return f"model {model}" + (f" of profile {profile}" if profile else "")

    @staticmethod
    def _say(text: str) -> None:
        click.secho(text, err=True, dim=True)
