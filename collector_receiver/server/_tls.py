"""TLS and mutual TLS for every listener of ``failcat serve`` (CONTRACT §4 r2).

``--tls-cert FILE`` and ``--tls-key FILE`` (env ``FAILCAT_TLS_CERT``, ``FAILCAT_TLS_KEY``) turn
on TLS on the OTLP/gRPC, OTLP/HTTP and API (9464) listeners alike; there is no mixed mode.
``--tls-client-ca FILE`` (env ``FAILCAT_TLS_CLIENT_CA``) adds mutual TLS: a client must present
a certificate signed by that CA —

* on OTLP/gRPC and OTLP/HTTP the handshake itself fails without one (``require_client_auth``,
  ``CERT_REQUIRED``), before a byte of a request is read;
* on the API port a certificate is asked for but optional at the handshake, so that
  ``/healthz`` and ``/readyz`` stay reachable for probes that hold none; every other path there
  (``/metrics``, ``/api/v1/``) answers ``403`` with a one-line reason to a connection that did
  not present a verified certificate (:func:`client_certificate_middleware`). A certificate
  that is presented but not signed by the CA fails the handshake on every listener.

Only the CA given verifies client certificates, never the system's trust store: a certificate
some public CA signed is not a way in.

Files are read and checked once, by :func:`load_server_tls`, before anything listens: a missing
or unreadable file, one that holds no PEM certificate (or key), an encrypted key, or a key that
does not belong to the certificate is refused with a one-line :class:`TlsError` naming the flag
and the path. Neither the key nor any file content ever appears in a message or the log.
TLS 1.2 is the minimum on every listener (gRPC's own minimum is 1.2 as well). ``SIGHUP`` does not
reload certificates: restart the receiver to take new ones.

A TLS handshake is part of a connection's idle time: on the aiohttp listeners
(:class:`TlsSite`) a client that connects and does not complete its handshake within
``--idle-timeout`` is disconnected, as a plain-text one that sends no request is.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from aiohttp import web
from aiohttp.typedefs import Middleware

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Paths of the API port that answer without a client certificate under mutual TLS.
UNAUTHENTICATED_PATHS = frozenset({"/healthz", "/readyz"})


class TlsError(ValueError):
    """A certificate, key or CA file that cannot serve; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class ServerTls:
    """Certificate, key and optional client CA, read and checked once, and what listeners take.

    Build it with :func:`load_server_tls`; both SSL contexts are made there, so that nothing
    about the files can fail once the receiver starts listening.
    """

    certificate_chain: bytes
    #: PEM of the private key; kept out of ``repr`` so that no log line can carry it.
    private_key: bytes = field(repr=False)
    #: PEM of the CA that signs client certificates; None = no mutual TLS.
    client_ca: bytes | None
    #: The OTLP/HTTP listener's context: a client certificate is required under mutual TLS.
    otlp_http_context: ssl.SSLContext = field(repr=False)
    #: The API listener's context: a client certificate is asked for, not required; pair it
    #: with :func:`client_certificate_middleware` under mutual TLS.
    api_context: ssl.SSLContext = field(repr=False)

    @property
    def mutual(self) -> bool:
        """Whether client certificates are required (``--tls-client-ca``)."""
        return self.client_ca is not None

    def grpc_credentials(self) -> grpc.ServerCredentials:
        """Credentials for ``grpc.aio.Server.add_secure_port``."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.mutual,
        )


def load_server_tls(cert_path: str, key_path: str, client_ca_path: str | None = None) -> ServerTls:
    """Read and check the files; raises :class:`TlsError` with one line if one cannot serve."""
    certificate_chain = _read("--tls-cert", cert_path)
    private_key = _read("--tls-key", key_path)
    client_ca = _read("--tls-client-ca", client_ca_path) if client_ca_path else None
    _check_certificates("--tls-cert", cert_path, certificate_chain)
    if client_ca is not None and client_ca_path is not None:
        _check_certificates("--tls-client-ca", client_ca_path, client_ca)

    def context(verify_mode: ssl.VerifyMode) -> ssl.SSLContext:
        return _server_context(cert_path, key_path, client_ca, verify_mode)

    return ServerTls(
        certificate_chain=certificate_chain,
        private_key=private_key,
        client_ca=client_ca,
        otlp_http_context=context(ssl.CERT_REQUIRED),
        api_context=context(ssl.CERT_OPTIONAL),
    )


def client_certificate_middleware(
    exempt: frozenset[str] = UNAUTHENTICATED_PATHS,
) -> Middleware:
    """An aiohttp middleware answering 403 on a connection without a verified client cert.

    For a listener whose context uses ``CERT_OPTIONAL``: a certificate the CA did not sign has
    already failed the handshake there, so any peer certificate present is a verified one.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path not in exempt and not _has_peer_certificate(request):
            return web.json_response(
                {"error": "a client certificate signed by --tls-client-ca is required"},
                status=403,
            )
        return await handler(request)

    return middleware


class TlsSite(web.BaseSite):
    """A TCP site serving TLS whose handshake must finish within ``handshake_timeout`` seconds.

    ``web.TCPSite`` leaves the handshake to asyncio's own limit of 60 s, and aiohttp's keep-alive
    clock starts only once the handshake is done: without this, a client that connects and never
    sends its ClientHello holds a connection for a minute whatever ``--idle-timeout`` says.
    """

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext,
        handshake_timeout: float,
        shutdown_timeout: float = 60.0,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner, shutdown_timeout=shutdown_timeout, ssl_context=ssl_context)
        self._host = host
        self._port = port
        self._handshake_timeout = handshake_timeout
        # SO_REUSEPORT: the OTLP/HTTP port shared by the workers of ``--workers N``.
        self._reuse_port = reuse_port or None

    @property
    def name(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"https://{host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None  # the runner was set up before its sites start
        self._server = await asyncio.get_running_loop().create_server(
            server,
            self._host,
            self._port,
            ssl=self._ssl_context,
            ssl_handshake_timeout=self._handshake_timeout,
            reuse_port=self._reuse_port,
        )


def _has_peer_certificate(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and bool(transport.get_extra_info("peercert"))


def _read(flag: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None


def _check_certificates(flag: str, path: str, pem: bytes) -> None:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem.decode("ascii"))
    except (UnicodeDecodeError, ssl.SSLError):
        raise TlsError(f"{flag}: {path} holds no PEM certificate") from None


def _server_context(
    cert_path: str, key_path: str, client_ca: bytes | None, verify_mode: ssl.VerifyMode
) -> ssl.SSLContext:
    """A TLS 1.2+ server context; TlsError if the key is not an unencrypted PEM key of the
    certificate (the certificate file itself was checked before)."""
    # Not ssl.create_default_context(): for Purpose.CLIENT_AUTH it also trusts the system's
    # CAs to sign client certificates, which would let any publicly issued one in.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    asked = []

    def password() -> bytes:
        # Called only for an encrypted key; answering keeps OpenSSL from prompting a terminal.
        asked.append(True)
        return b""

    try:
        context.load_cert_chain(cert_path, key_path, password=password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsError(
                f"--tls-key: {key_path} is not the key of the certificate in {cert_path}"
            ) from None
        if asked:
            # gRPC takes no passphrase, so an encrypted key cannot serve every listener.
            raise TlsError(
                f"--tls-key: {key_path} is encrypted; give the key unencrypted"
            ) from None
        raise TlsError(f"--tls-key: {key_path} holds no PEM private key") from None
    except OSError as exc:  # the file went away since it was read
        raise TlsError(f"--tls-key: cannot read {key_path}: {exc.strerror or exc}") from None
    if client_ca is not None:
        context.load_verify_locations(cadata=client_ca.decode("ascii"))
        context.verify_mode = verify_mode
    return context


__all__ = [
    "UNAUTHENTICATED_PATHS",
    "ServerTls",
    "TlsError",
    "TlsSite",
    "client_certificate_middleware",
    "load_server_tls",
]
