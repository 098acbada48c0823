#!/usr/bin/env python3
"""tests/egress/servers.py DIR CERT KEY PORTS - the egress tests' servers.

Listens on 127.0.0.1 only, on ports the kernel picks, and writes one line
per server to PORTS ("http N", "https N", "echo N", "sink N") once all
listen:
  http   HTTP/1.1 with keep-alive, serving the files under DIR (a dumb-HTTP
         git repository among them); POST (Content-Length or chunked)
         answers with the body's length and SHA-256, so a forwarded body
         can be checked
  https  the same behind TLS with CERT and KEY (self-signed, made by the
         test)
  echo   TCP echo, any number of connections at once (asyncio)
  sink   TCP: reads everything and answers, at EOF, the byte count and the
         SHA-256 of what came (for the bulk upload check)
Runs until killed. Logs nothing but errors.
"""
import asyncio
import hashlib
import http.server
import os
import ssl
import sys
import threading

MAX_POST = 64 << 20


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(body) > MAX_POST:
                raise ValueError("body too large")

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked()
        else:
            n = int(self.headers.get("Content-Length", "0"))
            if n < 0 or n > MAX_POST:
                self.send_error(413)
                return
            body = self.rfile.read(n)
        out = ("%d %s\n" % (len(body), hashlib.sha256(body).hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def serve_http(directory, context):
    def make(*a, **kw):
        return Handler(*a, directory=directory, **kw)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make)
    srv.daemon_threads = True
    if context is not None:
        srv.socket = context.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.close()
    except (ConnectionError, OSError):
        pass


async def sink(reader, writer):
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            data = await reader.read(1 << 20)
            if not data:
                break
            h.update(data)
            n += len(data)
        writer.write(("%d %s\n" % (n, h.hexdigest())).encode())
        await writer.drain()
        writer.close()
    except (ConnectionError, OSError):
        pass


async def main():
    directory, cert, key, ports = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lines = ["http %d" % serve_http(directory, None), "https %d" % serve_http(directory, ctx)]
    e = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=4096)
    s = await asyncio.start_server(sink, "127.0.0.1", 0, backlog=64)
    lines.append("echo %d" % e.sockets[0].getsockname()[1])
    lines.append("sink %d" % s.sockets[0].getsockname()[1])
    tmp = ports + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, ports)
    await asyncio.Event().wait()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        sys.exit(2)
    asyncio.run(main())
