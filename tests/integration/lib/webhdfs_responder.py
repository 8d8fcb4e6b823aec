#!/usr/bin/env python3
"""A TEST RESPONDER of the WebHDFS REST API, not HDFS: Debian has no HDFS server, so the
fetcher's webhdfs:// support and the WebHDFS deep store are tested against this. It answers
what a namenode and a datanode answer: GET /webhdfs/v1/<path>?op=OPEN on the namenode port is a
307 to the datanode port (as HDFS redirects every read), which serves the file's bytes;
op=GETFILESTATUS returns a FileStatus object; PUT ?op=CREATE on the namenode (no body) is a 307
to the datanode, whose PUT writes the file (201; with overwrite=false an existing file is 403);
DELETE ?op=DELETE answers {"boolean": true|false}. Files live under ROOT. Every request is
logged as one JSON line to LOG (port role, method, path, op, user.name) so a test can see the
redirect was followed.

usage: webhdfs_responder.py ROOT LOG PORTFILE [NAMENODE_PORT DATANODE_PORT]
(writes "<namenode> <datanode>" to PORTFILE; without ports, free ones are taken)
"""
import http.server
import json
import os
import socketserver
import sys
import threading
import urllib.parse

ROOT, LOG, PORTFILE = sys.argv[1:4]
FIXED = [int(p) for p in sys.argv[4:6]] if len(sys.argv) >= 6 else [0, 0]
lock = threading.Lock()


def log(entry):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def handler(role, ports):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, code, body=b"", ctype="application/json", headers=()):
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            op = q.get("op", [""])[0].upper()
            user = q.get("user.name", [None])[0]
            log({"role": role, "path": u.path, "op": op, "user": user})
            f = self.file(u)
            if f is None:
                return
            if op == "GETFILESTATUS":
                if not os.path.isfile(f):
                    return self.reply(404, b'{"RemoteException":{"exception":"FileNotFoundException"}}')
                st = os.stat(f)
                body = {"FileStatus": {"length": st.st_size, "type": "FILE",
                                       "modificationTime": int(st.st_mtime * 1000)}}
                return self.reply(200, json.dumps(body).encode())
            if op != "OPEN":
                return self.reply(400, b'{"RemoteException":{"message":"unsupported op"}}')
            if not os.path.isfile(f):
                return self.reply(404, b'{"RemoteException":{"exception":"FileNotFoundException"}}')
            if role == "namenode":
                loc = f"http://127.0.0.1:{ports['datanode']}{u.path}?{u.query}&offset=0"
                return self.reply(307, b"", headers=(("Location", loc),))
            with open(f, "rb") as fh:
                self.reply(200, fh.read(), ctype="application/octet-stream")

        def file(self, u):
            """The local file a /webhdfs/v1/ path names, or None after a 404 reply."""
            if not u.path.startswith("/webhdfs/v1/"):
                self.reply(404, b'{"RemoteException":{"message":"not WebHDFS"}}')
                return None
            rel = urllib.parse.unquote(u.path[len("/webhdfs/v1/"):])
            f = os.path.realpath(os.path.join(ROOT, rel))
            if not f.startswith(os.path.realpath(ROOT) + os.sep):
                self.reply(404, b'{"RemoteException":{"message":"outside the root"}}')
                return None
            return f

        def do_PUT(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            op = q.get("op", [""])[0].upper()
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            log({"role": role, "method": "PUT", "path": u.path, "op": op,
                 "user": q.get("user.name", [None])[0], "bytes": len(body)})
            f = self.file(u)
            if f is None:
                return
            if op != "CREATE":
                return self.reply(400, b'{"RemoteException":{"message":"unsupported op"}}')
            if q.get("overwrite", ["false"])[0] != "true" and os.path.exists(f):
                return self.reply(403, b'{"RemoteException":{"exception":"FileAlreadyExistsException"}}')
            if role == "namenode":
                loc = f"http://127.0.0.1:{ports['datanode']}{u.path}?{u.query}"
                return self.reply(307, b"", headers=(("Location", loc),))
            os.makedirs(os.path.dirname(f), exist_ok=True)
            with open(f + ".tmp", "wb") as fh:
                fh.write(body)
            os.rename(f + ".tmp", f)
            self.reply(201, b"", headers=(("Location", "hdfs://" + u.path),))

        def do_DELETE(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            log({"role": role, "method": "DELETE", "path": u.path,
                 "op": q.get("op", [""])[0].upper()})
            f = self.file(u)
            if f is None:
                return
            gone = os.path.isfile(f)
            if gone:
                os.unlink(f)
            self.reply(200, json.dumps({"boolean": gone}).encode())

    return H


ports = {}
servers = {}
Server.allow_reuse_address = True
for role, port in zip(("namenode", "datanode"), FIXED):
    servers[role] = Server(("127.0.0.1", port), handler(role, ports))
    ports[role] = servers[role].server_address[1]
for s in servers.values():
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write(f"{ports['namenode']} {ports['datanode']}\n")
os.rename(PORTFILE + ".tmp", PORTFILE)
threading.Event().wait()
