#!/usr/bin/env python3
"""An SMTP server (aiosmtpd, an implementation nobody on this project wrote)
for the notification tests. Prints `READY <port>`, then for every message
`MAIL <json>` with the envelope and the mail parsed back by Python's email
module (decoded subject, From, To, text body, attachments), and `AUTH <json>` for every
login. --tls CERT KEY: implicit TLS; --starttls CERT KEY: STARTTLS required;
--login USER PASSWORD: AUTH required. Stops on SIGTERM/SIGINT."""

import argparse
import asyncio
import email
import email.policy
import json
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def out(tag: str, obj) -> None:
    print(tag, json.dumps(obj, ensure_ascii=False), flush=True)


def raw_header(data: bytes, name: str):
    """The header as sent (still RFC 2047-encoded), to check it was encoded."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    for line in head.replace("\r\n ", " ").replace("\r\n\t", " ").split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def attachments(msg):
    """Each attached file: name, type, size and its first bytes (hex), decoded
    from the transfer encoding, so a test can check a PDF starts with %PDF."""
    out = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        out.append({"filename": part.get_filename(), "content_type": part.get_content_type(), "size": len(data), "head_hex": data[:16].hex()})
    return out


class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        out(
            "MAIL",
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "subject": str(msg["subject"]),
                "raw_subject": raw_header(envelope.original_content, "Subject"),
                "from": str(msg["from"]),
                "to": [str(a) for a in msg["to"].addresses],
                "content_type": msg.get_content_type(),
                "charset": body.get_content_charset() if body else None,
                "body": body.get_content() if body else None,
                "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                "authenticated": bool(session.authenticated),
                "attachments": attachments(msg),
            },
        )
        return "250 Message accepted for delivery"


def authenticator(user: str, password: str):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        out("AUTH", {"mechanism": mechanism, "login": auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None, "ok": ok})
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd sends the 535

    return check


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--login", nargs=2, metavar=("USER", "PASSWORD"))
    a = p.parse_args()

    def context(pair):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(pair[0], pair[1])
        return ctx

    kwargs = {"hostname": "smtp-peer.test"}
    if a.starttls:
        kwargs.update(tls_context=context(a.starttls), require_starttls=True)
    if a.login:
        kwargs.update(authenticator=authenticator(*a.login), auth_required=True, auth_require_tls=bool(a.tls or a.starttls))
    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **kwargs), host="127.0.0.1", port=0, ssl=context(a.tls) if a.tls else None
    )
    print("READY", server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
