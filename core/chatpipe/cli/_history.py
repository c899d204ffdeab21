"""The CLI's conversation log: every ``chatpipe chat`` conversation, kept in a local SQLite file.

The file is ``logs.db`` in :func:`data_dir` (``$CHATPIPE_DATA_DIR``, else the platform's user
data directory for chatpipe). A conversation is its messages in order — the ones sent (system,
user, a ``--messages`` history) and each reply — with the profile and model that answered.
Only messages are kept: never a key, a header or a request (a message is what the user typed
or the model answered). ``log: false`` in the config, or ``--no-log``, keeps nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import attrs

__all__ = ["DATA_DIR_ENV", "LOG_FILE", "Conversation", "History", "data_dir"]

DATA_DIR_ENV = "CHATPIPE_DATA_DIR"
"""Environment variable overriding the user data directory (where ``logs.db`` lives)."""

LOG_FILE = "logs.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, started REAL NOT NULL, updated REAL NOT NULL, profile TEXT, model TEXT
);
CREATE TABLE IF NOT EXISTS messages (
    conversation TEXT NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL, role TEXT NOT NULL,
    message TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (conversation, seq)
);
"""


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$CHATPIPE_DATA_DIR``, else the platform's user data directory for chatpipe (not created)."""
    env = os.environ if env is None else env
    override = env.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("chatpipe", appauthor=False))


@attrs.frozen
class Conversation:
    """One logged conversation: its id, when it started and was last added to, who answered."""

    id: str
    started: float
    updated: float
    profile: str | None
    model: str | None
    first: str
    """The text of its first user message (for listings)."""


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


class History:
    """The log at ``path`` (default ``data_dir()/logs.db``), created on first write."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else data_dir() / LOG_FILE

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path)) as db, db:
            db.executescript(_SCHEMA)
            yield db

    def start(self, profile: str | None, model: str | None) -> str:
        """A new, empty conversation's id."""
        conversation = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        now = time.time()
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (conversation, now, now, profile, model))
        return conversation

    def add(self, conversation: str, messages: Sequence[Mapping[str, Any]], *, model: str | None = None) -> None:
        """Append ``messages`` to ``conversation`` (and note the ``model`` that answered, when given)."""
        with self._db() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM messages WHERE conversation = ?", (conversation,)).fetchone()
            rows = [
                (conversation, count + i, str(m.get("role", "")), json.dumps(dict(m), ensure_ascii=False), _text(m))
                for i, m in enumerate(messages)
            ]
            db.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?)", rows)
            db.execute(
                "UPDATE conversations SET updated = ?, model = COALESCE(?, model) WHERE id = ?",
                (time.time(), model, conversation),
            )

    def messages(self, conversation: str) -> list[dict[str, Any]]:
        """``conversation``'s messages in order; :class:`LookupError` (naming the fix) if it does not exist."""
        missing = LookupError(f"no conversation {conversation!r}; chatpipe logs list shows the ids")
        if not self.path.exists():
            raise missing
        with self._db() as db:
            if db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation,)).fetchone() is None:
                raise missing
            rows = db.execute("SELECT message FROM messages WHERE conversation = ? ORDER BY seq", (conversation,))
            return [json.loads(row[0]) for row in rows]

    def last(self) -> str | None:
        """The id of the conversation added to most recently (``None`` when the log is empty)."""
        if not self.path.exists():
            return None
        with self._db() as db:
            row = db.execute("SELECT id FROM conversations ORDER BY updated DESC LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def conversations(self, *, search: str | None = None, limit: int = 20) -> list[Conversation]:
        """The latest ``limit`` conversations, newest first; with ``search``, those with a message containing it."""
        if not self.path.exists():
            return []
        where, args = "", tuple[object, ...]((limit,))
        if search:
            where = "WHERE c.id IN (SELECT conversation FROM messages WHERE instr(lower(text), lower(?)) > 0)"
            args = (search, limit)
        query = (
            "SELECT c.id, c.started, c.updated, c.profile, c.model, COALESCE((SELECT text FROM messages m "
            "WHERE m.conversation = c.id AND m.role = 'user' ORDER BY seq LIMIT 1), '') "
            f"FROM conversations c {where} ORDER BY c.updated DESC LIMIT ?"
        )
        with self._db() as db:
            return [Conversation(*row) for row in db.execute(query, args)]
