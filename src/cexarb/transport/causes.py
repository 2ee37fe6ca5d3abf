"""Why a connection failed, in the words an operator searches for ("connection refused"),
not the library's repr of its connection key."""

from __future__ import annotations

import os
import socket
import ssl

import aiohttp


def network_cause(exc: BaseException) -> str:
    """A short cause of a failed connection or request: "connection refused", "cannot resolve
    the host name", "TLS certificate rejected: ...", "timed out", ..."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate rejected: {exc.certificate_error}"
    if isinstance(exc, ssl.SSLCertVerificationError):  # our own connections (transport.wire)
        return f"TLS certificate rejected: {exc.verify_message or exc.reason}"
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"WebSocket handshake refused (HTTP {exc.status})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return network_cause(exc.os_error)
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc) or type(exc).__name__
