"""A real SMTP relay for the outbox tests (aiosmtpd). Writes every message
it accepts to OUT_DIR as N.eml plus N.json (the envelope).

Recipients steer it: reject-*@ is refused for good (550), busy-*@ is
refused for now (451) the first time it is seen. With --tls CERT KEY it
requires STARTTLS; with --implicit-tls CERT KEY it speaks TLS from the first
byte; with --auth USER:PASS it requires AUTH.

usage: relay.py PORT OUT_DIR [--tls|--implicit-tls CERT KEY] [--auth USER:PASS]
"""
import asyncio, json, os, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, out = int(sys.argv[1]), sys.argv[2]
args = sys.argv[3:]
tls = None
implicit = False
auth = None
while args:
    if args[0] in ("--tls", "--implicit-tls"):
        implicit = args[0] == "--implicit-tls"
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args[1], args[2])
        args = args[3:]
    elif args[0] == "--auth":
        auth = args[1].encode().split(b":", 1)
        args = args[2:]
    else:
        sys.exit("unknown argument " + args[0])

seen = set()
count = 0


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        local = address.split("@")[0]
        if local.startswith("reject-"):
            return "550 5.1.1 No such user here"
        if local.startswith("busy-") and address not in seen:
            seen.add(address)
            return "451 4.3.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        with open(os.path.join(out, f"{count}.eml.tmp"), "wb") as f:
            f.write(envelope.original_content)
        with open(os.path.join(out, f"{count}.json"), "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "tls": implicit or session.ssl is not None,
                       "auth": session.authenticated}, f)
        os.rename(os.path.join(out, f"{count}.eml.tmp"), os.path.join(out, f"{count}.eml"))
        return "250 OK queued"


def authenticator(server, session, envelope, mechanism, data):
    ok = auth is not None and [data.login, data.password] == auth
    return AuthResult(success=ok)


kwargs = dict(hostname="127.0.0.1", port=port)
if tls and implicit:
    kwargs.update(ssl_context=tls)
elif tls:
    kwargs.update(tls_context=tls, require_starttls=True)
if auth:
    kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(tls))
controller = Controller(Handler(), **kwargs)
controller.start()
print("READY", flush=True)
try:
    sys.stdin.read()
finally:
    controller.stop()
