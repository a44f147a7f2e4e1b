"""A real FTP server for the measurement-file tests: pyftpdlib serving a
folder (the test lays out an instrument-like tree in it).

    ftp_peer.py --root DIR [--port 0] [--user logger --password PW]
                [--checksums] [--rate BYTES_PER_S]

Prints `READY 127.0.0.1:<port>` once it listens. `--checksums` adds the
XMD5, XCRC and HASH (SHA-256, MD5, CRC32) commands and advertises them in
FEAT, as instrument servers that offer one do. `--rate` throttles
downloads so a test can stop the server in the middle of a file.
"""

import argparse
import hashlib
import sys
import zlib

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
from pyftpdlib.servers import FTPServer

ALGOS = {"SHA-256": "sha256", "MD5": "md5", "CRC32": None}


def digest(path, algo):
    with open(path, "rb") as f:
        if algo == "CRC32":
            crc = 0
            while chunk := f.read(1 << 20):
                crc = zlib.crc32(chunk, crc)
            return f"{crc:08x}"
        h = hashlib.new(ALGOS[algo])
        while chunk := f.read(1 << 20):
            h.update(chunk)
        return h.hexdigest()


class ChecksumHandler(FTPHandler):
    proto_cmds = FTPHandler.proto_cmds.copy()
    for name in ("XMD5", "XCRC", "HASH"):
        proto_cmds[name] = dict(perm="r", auth=True, arg=True, help=f"Syntax: {name} <SP> file-name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._extra_feats = ["XMD5", "XCRC", "HASH SHA-256*;MD5;CRC32"]
        self._hash_algo = "SHA-256"

    def _file_digest(self, path, algo):
        if not self.fs.isfile(path):
            self.respond("550 No such file.")
            return None
        return digest(path, algo)

    def ftp_XMD5(self, path):
        d = self._file_digest(path, "MD5")
        if d:
            self.respond(f"250 {d.upper()}")

    def ftp_XCRC(self, path):
        d = self._file_digest(path, "CRC32")
        if d:
            self.respond(f"250 {d.upper()}")

    def ftp_HASH(self, path):
        d = self._file_digest(path, self._hash_algo)
        if d:
            size = self.fs.getsize(path)
            name = self.fs.fs2ftp(path)
            self.respond(f"213 {self._hash_algo} 0-{max(size - 1, 0)} {d} {name}")

    def ftp_OPTS(self, line):
        cmd, _, arg = line.partition(" ")
        if cmd.upper() == "HASH":
            if not arg:
                self.respond(f"200 {self._hash_algo}")
            elif arg.upper() in ALGOS:
                self._hash_algo = arg.upper()
                self.respond(f"200 {self._hash_algo}")
            else:
                self.respond("501 Unknown algorithm.")
            return
        super().ftp_OPTS(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", default="logger")
    ap.add_argument("--password", default="logger-pass")
    ap.add_argument("--checksums", action="store_true")
    ap.add_argument("--rate", type=int, default=0, help="download bytes per second (0: no limit)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()

    auth = DummyAuthorizer()
    # Read, list and delete: what a collector may do on an instrument.
    auth.add_user(args.user, args.password, args.root, perm="elrd")
    handler = ChecksumHandler if args.checksums else FTPHandler
    handler.authorizer = auth
    handler.banner = "meterdeck test logger FTP ready."
    if args.rate:
        dtp = ThrottledDTPHandler
        dtp.write_limit = args.rate
        handler.dtp_handler = dtp
        handler.use_sendfile = False
    if args.quiet:
        import logging

        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = FTPServer((args.host, args.port), handler)
    host, port = server.socket.getsockname()[:2]
    print(f"READY {host}:{port}", flush=True)
    try:
        server.serve_forever(handle_exit=True)
    finally:
        server.close_all()


if __name__ == "__main__":
    sys.exit(main())
