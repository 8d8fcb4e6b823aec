#!/usr/bin/env python3
"""A TEST RESPONDER of the WebHDFS REST API, not HDFS: Debian has no HDFS server, so the
fetcher's webhdfs:// support is tested against this. It answers what a namenode and a datanode
answer for reads: GET /webhdfs/v1/<path>?op=OPEN on the namenode port is a 307 to the datanode
port (as HDFS redirects every read), which serves the file's bytes; op=GETFILESTATUS returns a
FileStatus object. Files come from ROOT. Every request is logged as one JSON line to LOG (port
role, path, op, user.name) so a test can see the redirect was followed.

usage: webhdfs_responder.py ROOT LOG PORTFILE   (writes "<namenode> <datanode>" to PORTFILE)
"""
import http.server
import json
import os
import socketserver
import sys
import threading
import urllib.parse

ROOT, LOG, PORTFILE = sys.argv[1:4]
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
            if not u.path.startswith("/webhdfs/v1/"):
                return self.reply(404, b'{"RemoteException":{"message":"not WebHDFS"}}')
            rel = urllib.parse.unquote(u.path[len("/webhdfs/v1/"):])
            f = os.path.realpath(os.path.join(ROOT, rel))
            if not f.startswith(os.path.realpath(ROOT) + os.sep) or not os.path.isfile(f):
                return self.reply(404, b'{"RemoteException":{"exception":"FileNotFoundException"}}')
            if op == "GETFILESTATUS":
                st = os.stat(f)
                body = {"FileStatus": {"length": st.st_size, "type": "FILE",
                                       "modificationTime": int(st.st_mtime * 1000)}}
                return self.reply(200, json.dumps(body).encode())
            if op != "OPEN":
                return self.reply(400, b'{"RemoteException":{"message":"unsupported op"}}')
            if role == "namenode":
                loc = f"http://127.0.0.1:{ports['datanode']}{u.path}?{u.query}&offset=0"
                return self.reply(307, b"", headers=(("Location", loc),))
            with open(f, "rb") as fh:
                self.reply(200, fh.read(), ctype="application/octet-stream")

    return H


ports = {}
servers = {}
for role in ("namenode", "datanode"):
    servers[role] = Server(("127.0.0.1", 0), handler(role, ports))
    ports[role] = servers[role].server_address[1]
for s in servers.values():
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(PORTFILE + ".tmp", "w") as f:
    f.write(f"{ports['namenode']} {ports['datanode']}\n")
os.rename(PORTFILE + ".tmp", PORTFILE)
threading.Event().wait()
