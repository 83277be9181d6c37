"""STARTTLS and login against a real SMTP server on loopback (aiosmtpd, a throwaway
self-signed certificate)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from matchdesk.mail.transports import SmtpTransport
from tests.mail.conftest import Recorder, free_port


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"desk", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Recorder, int, ssl.SSLContext]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    recorder, port = Recorder(), free_port()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=check_login,
        auth_require_tls=True,
    )
    controller.start()
    yield recorder, port, ssl.create_default_context(cafile=str(cert))
    controller.stop()


def email() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@x.org", "b@x.org", "Hi"
    message.set_content("Hello")
    return message


def test_starttls_and_login(tls_server: tuple[Recorder, int, ssl.SSLContext]) -> None:
    recorder, port, client_context = tls_server
    transport = SmtpTransport(
        "127.0.0.1", port, username="desk", password="s3cret", ssl_context=client_context
    )
    with transport:
        transport.send(email(), "a@x.org", "b@x.org", "name")
    [received] = recorder.received
    assert (received.mail_from, received.rcpt_tos) == ("a@x.org", ["b@x.org"])
