#!/usr/bin/env python3
"""The kept-open HTTPS API connection of make_capture.sh (a phone app's API connection serving several actions).

  keepalive_https.py serve ADDR PORT CERT KEY   an HTTP/1.1 keep-alive TLS server (TLS 1.3 only): GET /bytes/N
                                                answers N random bytes (Content-Length, no compression), and the
                                                connection stays open for the client's next request
  keepalive_https.py count FILE                 reads what the client received (openssl s_client -quiet output)
                                                and prints "STATUS:BODY_BYTES" for each complete response, one a
                                                line (make_capture.sh waits for a request's response with it)
Standard library only.
"""
import http.server
import os
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connection serves requests until the client closes it
    server_version = "wte2e-events/1"
    sys_version = ""

    def do_GET(self):
        prefix = "/bytes/"
        if not self.path.startswith(prefix) or not self.path[len(prefix):].split("?")[0].isdigit():
            self.send_error(404)
            return
        n = int(self.path[len(prefix):].split("?")[0])
        if n > 16 << 20:
            self.send_error(413)
            return
        body = os.urandom(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s:%s %s\n" % (self.client_address[0], self.client_address[1], fmt % args))
        sys.stderr.flush()


def serve(addr, port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    httpd = http.server.ThreadingHTTPServer((addr, int(port)), Handler)
    httpd.daemon_threads = True
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.serve_forever()


def count(path):
    """Complete HTTP/1.1 responses (with Content-Length) in a byte stream, as STATUS:BODY_BYTES lines."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    out = []
    while True:
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = data[pos:end].decode("latin-1").split("\r\n")
        status = head[0].split(" ")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(data) < end + 4 + length:
            break
        out.append("%s:%d" % (status[1] if len(status) > 1 else "?", length))
        pos = end + 4 + length
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "count":
        count(sys.argv[2])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
