"""Running the real ``@stripe/mcp`` npm packages against local stand-ins of Stripe.

``scripts/install-stripe-mcp`` installs 0.2.5 and 0.3.3 into ``.cache/stripe-mcp/<v>``.
Both talk HTTPS to fixed hosts (read from their JS: stripe-node calls
``https://api.stripe.com:443/v1/...``; the 0.3.3 relay posts MCP to
``https://mcp.stripe.com`` at path ``/``). ``node/redirect.js``, loaded with
``node --require``, sends those TLS connections to a local server that presents a
certificate for the real name, signed by a CA made here and trusted through
``NODE_EXTRA_CA_CERTS``. Nothing in the packages is changed.

The stand-ins: for 0.2.5, ``fake_stripe_api`` (Stripe's REST API, form-encoded bodies,
JSON answers and error bodies, over the sandbox's own store); for 0.3.3, the sandbox's
hosted MCP app itself, served over TLS.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from maya.payments import McpServerConfig
from maya.sandbox import SandboxStore, StripeError, run_operation

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "stripe-mcp"
REDIRECT_HOOK = Path(__file__).resolve().parent / "node" / "redirect.js"
STRIPE_HOSTS = ("api.stripe.com", "mcp.stripe.com")


def package_entry(version: str) -> Path:
    """The installed package's ``dist/index.js``, or skip the test saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the real @stripe/mcp packages cannot run here")
    entry = CACHE / version / "node_modules" / "@stripe" / "mcp" / "dist" / "index.js"
    if not entry.is_file():
        pytest.skip(
            f"@stripe/mcp@{version} is not installed in {entry.parents[4]}: "
            "run scripts/install-stripe-mcp"
        )
    return entry


@dataclass(frozen=True)
class LocalPki:
    """A throwaway CA and one server certificate for Stripe's host names."""

    ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path) -> LocalPki:
    """Generate the CA and a certificate for ``api.stripe.com`` and ``mcp.stripe.com``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Maya test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, STRIPE_HOSTS[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in STRIPE_HOSTS]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = LocalPki(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


@asynccontextmanager
async def serve_tls(app: ASGIApp, pki: LocalPki | None) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1, port 0 (over TLS when ``pki`` is given); yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        log_level="warning",
        lifespan="on",
        ssl_certfile=str(pki.cert) if pki is not None else None,
        ssl_keyfile=str(pki.key) if pki is not None else None,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: server.serve(sockets=[sock]))
        with anyio.fail_after(10):
            # uvicorn offers only a flag for "listening"; poll it briefly.
            while not server.started:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        try:
            yield port
        finally:
            server.should_exit = True
            server.force_exit = True
    sock.close()


def node_server(
    name: str, entry: Path, args: list[str], *, pki: LocalPki, redirects: dict[str, int]
) -> McpServerConfig:
    """A stdio ``mcp.json`` entry running the real package under ``node``."""
    from pydantic import SecretStr

    node = shutil.which("node")
    assert node is not None
    env = {
        "NODE_OPTIONS": f"--require {REDIRECT_HOOK}",
        "NODE_EXTRA_CA_CERTS": str(pki.ca),
        "MAYA_TEST_REDIRECT": json.dumps(
            {f"{host}:443": f"127.0.0.1:{port}" for host, port in redirects.items()}
        ),
        "MAYA_TEST_REDIRECT_STRICT": "1",
    }
    return McpServerConfig(
        name=name,
        transport="stdio",
        command=node,
        args=tuple(SecretStr(a) for a in (str(entry), *args)),
        env={k: SecretStr(v) for k, v in env.items()},
        mode="test",
    )


# -- a stand-in for Stripe's REST API, for stripe-node ----------------------------------

_PART = re.compile(r"[^\[\]]+")


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price]=...``) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _PART.findall(key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            child: Any = value if last else ([] if parts[i + 1].isdigit() else {})
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append(None)
                if last or not isinstance(node[index], dict | list):
                    node[index] = child
                node = node[index]
            else:
                if last or not isinstance(node.get(part), dict | list):
                    node[part] = child
                node = node[part]
    return root


@dataclass
class FakeStripeApi:
    """Stripe's REST API for products, prices and payment links, over a sandbox store.

    Attributes:
        store: Where objects live (so tests can pay links through the sandbox).
        fail_links: POST /v1/payment_links answers this many HTTP 500 ``api_error`` s
            (with ``Stripe-Should-Retry: false``, as Stripe says when retrying is futile).
        requests: ``METHOD path`` of every request, in order.
        authorizations: The ``Authorization`` headers seen.
    """

    store: SandboxStore
    fail_links: int = 0
    requests: list[str] = field(default_factory=list)
    authorizations: set[str] = field(default_factory=set)

    def app(self) -> Starlette:
        """The ASGI app."""

        async def handle(request: Request) -> JSONResponse:
            self.requests.append(f"{request.method} {request.url.path}")
            self.authorizations.add(request.headers.get("authorization", ""))
            path = request.url.path
            params = decode_form((await request.body()).decode())
            if request.method == "POST" and path == "/v1/payment_links" and self.fail_links > 0:
                self.fail_links -= 1
                return JSONResponse(
                    {"error": {"type": "api_error", "message": "An unknown error occurred."}},
                    status_code=500,
                    headers={"Stripe-Should-Retry": "false"},
                )
            operation = _OPERATIONS.get((request.method, _route(path)))
            if operation is None:
                return JSONResponse(
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "message": "Unrecognized request URL",
                        }
                    },
                    status_code=404,
                )
            if path.startswith("/v1/payment_links/"):
                params["payment_link"] = path.rsplit("/", 1)[1]
            try:
                obj = run_operation(
                    self.store, operation, params, checkout_base_url="https://buy.stripe.com"
                )
            except StripeError as exc:
                status = 404 if exc.code == "resource_missing" else 400
                return JSONResponse(exc.to_json(), status_code=status)
            if isinstance(obj.get("url"), str):
                obj["url"] = obj["url"].replace("/b/test_", "/test_")
            return JSONResponse(obj)

        return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])


_OPERATIONS = {
    ("POST", "/v1/products"): "PostProducts",
    ("POST", "/v1/prices"): "PostPrices",
    ("POST", "/v1/payment_links"): "PostPaymentLinks",
    ("POST", "/v1/payment_links/{id}"): "PostPaymentLinksPaymentLink",
    ("GET", "/v1/payment_links/{id}"): "GetPaymentLinksPaymentLink",
}


def _route(path: str) -> str:
    return re.sub(r"^/v1/payment_links/[^/]+$", "/v1/payment_links/{id}", path)


def at_root(app: ASGIApp, path: str = "/mcp") -> ASGIApp:
    """``app`` with requests for ``/`` sent to ``path`` (the relay posts to the root)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ("", "/"):
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return wrapped


def never_printed(secret: str, *texts: str) -> None:
    """Assert ``secret`` appears in none of ``texts``."""
    for text in texts:
        assert secret not in text
