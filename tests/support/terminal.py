"""A child process on a pseudo-terminal, for tests of what a person at a terminal sees.

The child runs with the pty as its controlling terminal (``pty.fork``), so a Ctrl-C typed
there is the SIGINT a person's would be; stdin, stdout and stderr are all the terminal.
"""

from __future__ import annotations

import os
import pty
import select
import time


class Terminal:
    """A child process on a pseudo-terminal: :meth:`type` lines, :meth:`expect` text on the screen."""

    def __init__(self, args: list[str]) -> None:
        self.screen = ""
        pid, fd = pty.fork()
        if pid == 0:  # the child: its controlling terminal is the pty
            env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
            os.execve(args[0], args, env)
        self.pid, self.fd = pid, fd

    def type(self, text: str) -> None:
        """Type ``text``, a moment after what was expected last (as a person would: readline
        sets the terminal up once its prompt is drawn, and drops what was typed before)."""
        time.sleep(0.3)
        os.write(self.fd, text.encode())

    def expect(self, text: str, timeout: float = 20.0) -> None:
        """Wait until ``text`` is on the screen after what was expected before; fail naming what is there."""
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} did not appear; the screen shows:\n{self.screen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"the session ended before {text!r}; the screen shows:\n{self.screen}")
                self.screen += data.decode(errors="replace").replace("\r\n", "\n")
        self.screen = self.screen[self.screen.index(text) + len(text) :]

    def wait(self, timeout: float = 20.0) -> int:
        """The child's exit code, once it has ended (killed, and a failure, after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.fd, 4096).decode(errors="replace")
                except OSError:
                    time.sleep(0.05)
        os.kill(self.pid, 9)
        raise AssertionError(f"the session did not end; the screen shows:\n{self.screen}")
