"""Tokens only the server issues: random, signed with the server's secret, checked in constant time.

Browser cookies and MCP tab handles are such tokens. The secret: ``$MAYA_SERVER_SECRET``,
else a 0600 file created once beside the default store; it is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import platformdirs

__all__ = [
    "SERVER_SECRET_ENV",
    "SERVER_SECRET_FILE_ENV",
    "ServerSecretError",
    "Signer",
    "default_secret_path",
    "load_server_secret",
]

SERVER_SECRET_ENV = "MAYA_SERVER_SECRET"
"""The server's secret itself (at least 32 characters)."""
SERVER_SECRET_FILE_ENV = "MAYA_SERVER_SECRET_FILE"
"""A file holding the server's secret (created when missing)."""

_MIN_SECRET_CHARS = 32
_NONCE_BYTES = 32  # 256 bits: far past the 128 bits a guess would have to beat
_SIG_BYTES = 16


class ServerSecretError(ValueError):
    """The configured server secret is unusable (the message never shows it)."""


def default_secret_path() -> Path:
    """Where the secret is kept when nothing names it: beside the default SQLite store."""
    return Path(platformdirs.user_data_dir("maya", appauthor=False)) / "server-secret"


def _read_or_create(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = secrets.token_bytes(32)
        try:
            # O_EXCL: two workers starting at once agree on the first file written.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            data = path.read_bytes()
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(fresh)
            return fresh
    if len(data) < _MIN_SECRET_CHARS:
        raise ServerSecretError(f"the server secret file {path} is shorter than 32 bytes")
    return data


def load_server_secret(environ: Mapping[str, str] | None = None) -> bytes:
    """The server's secret, from the environment or its file (created when missing).

    Raises:
        ServerSecretError: ``$MAYA_SERVER_SECRET`` is set but shorter than 32 characters,
            or the file is too short.
        OSError: the file cannot be read or created.
    """
    env = os.environ if environ is None else environ
    given = env.get(SERVER_SECRET_ENV)
    if given:
        if len(given) < _MIN_SECRET_CHARS:
            raise ServerSecretError(f"{SERVER_SECRET_ENV} must be at least 32 characters")
        return given.encode()
    named = env.get(SERVER_SECRET_FILE_ENV)
    return _read_or_create(Path(named).expanduser() if named else default_secret_path())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    """Issues and checks tokens ``<random>.<signature>`` for one purpose."""

    def __init__(self, secret: bytes, *, purpose: str) -> None:
        """Sign with a key derived from ``secret`` for ``purpose`` alone (a cookie is
        never accepted as an MCP handle, nor the other way round)."""
        self._key = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()

    def _signature(self, nonce: str) -> str:
        return _b64(hmac.new(self._key, nonce.encode(), hashlib.sha256).digest()[:_SIG_BYTES])

    def issue(self) -> str:
        """A fresh token: 256 random bits and their signature, URL-safe (66 characters)."""
        nonce = _b64(secrets.token_bytes(_NONCE_BYTES))
        return f"{nonce}.{self._signature(nonce)}"

    def valid(self, token: str) -> bool:
        """True only for a token this signer (this secret, this purpose) issued."""
        nonce, dot, signature = token.partition(".")
        if not dot or len(nonce) != 43 or len(signature) != 22:
            return False
        return hmac.compare_digest(signature, self._signature(nonce))
