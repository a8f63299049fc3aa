#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""docs/scale-out.md's example, run: two mfa-mock nodes over one redis-server, behind Debian's
nginx (round robin), everything on free loopback ports in a temp directory.

Usage: two_nodes_nginx.py [--binary PATH] [--codes N] [--keep]
  The binary may also come from MFA_MOCK_BINARY. --codes: codes sent and verified (default 6).
  --keep: leave the temp directory (logs, nginx.conf) behind, also on success.

Starts redis-server (no persistence), two nodes with --store redis://127.0.0.1:P?prefix=demo,
and nginx from tests/deploy/nginx-two-nodes.conf.template (which must match the copy in
docs/scale-out.md). Then, per code: a send through nginx (200), the code read from the admin
inbox of one node or the other (alternately), the verify through nginx (200) and the same verify
again (400 verification_code.not_found). nginx's access log must show both nodes answering sends
and verifies, and codes sent through one node verified through the other. Everything started is
stopped by PID (SIGTERM, then SIGKILL), on success, failure or timeout.

Exit status: 0 passed, 1 failed, 2 bad usage, 77 redis-server or nginx is missing (skipped).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TEMPLATE = os.path.join(HERE, "nginx-two-nodes.conf.template")
DOC = os.path.join(ROOT, "docs", "scale-out.md")
SEND = "/api/experience/verification/mfa-verification-code"
VERIFY = SEND + "/verify"
PREFIX = "demo"  # the key prefix, as in the documentation
OVERALL_TIMEOUT_S = 150  # below the ctest TIMEOUT, so the clean-up always runs
# The values docs/scale-out.md shows in its copy of the nginx config.
DOC_VALUES = {"@PREFIX@": "/tmp/mfa-two-nodes", "@PORT@": "8080",
              "@NODE_A@": "127.0.0.1:3101", "@NODE_B@": "127.0.0.1:3201"}


class Failed(Exception):
    pass


def say(msg):
    print(f"[two-nodes] {msg}", flush=True)


def find_tool(name):
    # nginx lives in /usr/sbin, which is not on every user's PATH.
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(template, values):
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def check_doc_copy():
    """The config in docs/scale-out.md is the template (minus its header) with DOC_VALUES."""
    with open(TEMPLATE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    expected = fill("\n".join(lines), DOC_VALUES).strip()
    with open(DOC, encoding="utf-8") as f:
        blocks = re.findall(r"```nginx\n(.*?)```", f.read(), re.S)
    if len(blocks) != 1:
        raise Failed(f"docs/scale-out.md: expected one ```nginx block, found {len(blocks)}")
    if blocks[0].strip() != expected:
        import difflib
        diff = "\n".join(difflib.unified_diff(blocks[0].strip().splitlines(), expected.splitlines(),
                                              "docs/scale-out.md", "template", lineterm=""))
        raise Failed("docs/scale-out.md's nginx config differs from " +
                     os.path.relpath(TEMPLATE, ROOT) + ":\n" + diff)
    say("docs/scale-out.md's nginx config is the tested template")


class Processes:
    """What this test started, stopped by PID in reverse order."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.started = []  # (name, Popen, log paths)

    def start(self, name, argv):
        out = os.path.join(self.tmp, name + ".out")
        err = os.path.join(self.tmp, name + ".err")
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL,
                                    cwd=self.tmp)
        self.started.append((name, proc, (out, err)))
        say(f"{name}: pid {proc.pid}: {' '.join(argv)}")
        return proc

    @staticmethod
    def stop_one(proc):
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self):
        for name, proc, _ in reversed(self.started):
            try:
                self.stop_one(proc)
            except Exception as err:  # keep stopping the others
                say(f"{name}: could not stop pid {proc.pid}: {err}")

    def dump_logs(self, lines=30):
        for name, proc, paths in self.started:
            for path in paths:
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        tail = f.read().splitlines()[-lines:]
                except OSError:
                    continue
                if tail:
                    print(f"--- {os.path.basename(path)} (exit {proc.poll()})", file=sys.stderr)
                    print("\n".join(tail), file=sys.stderr)


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def wait_for(what, predicate, timeout=30, proc=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failed(f"{what}: the process exited with {proc.returncode}")
        try:
            last = predicate()
            if last is True:
                return
        except OSError as err:
            last = err
        time.sleep(0.05)
    raise Failed(f"{what}: not within {timeout} s (last: {last})")


def start_redis(procs, redis_server):
    for _ in range(5):
        port = free_port()
        proc = procs.start("redis", [redis_server, "--port", str(port), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--daemonize", "no",
                                     "--dir", procs.tmp])

        def pong():
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        try:
            wait_for("redis-server answers PING", pong, timeout=10, proc=proc)
            return port
        except Failed:
            procs.stop_one(proc)  # most likely the port was taken meanwhile: another one
    raise Failed("redis-server did not start")


def start_node(procs, binary, name, redis_port):
    proc = procs.start(name, [binary, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                              "--store", f"redis://127.0.0.1:{redis_port}?prefix={PREFIX}"])
    out = os.path.join(procs.tmp, name + ".out")
    found = {}

    def ready_line():
        with open(out, encoding="utf-8") as f:
            m = re.search(r"mfa-mock ready public=(\S+) admin=(\S+)", f.read())
        if m:
            found["public"], found["admin"] = m.group(1), m.group(2)
        return bool(m)
    wait_for(f"{name}: ready line", ready_line, timeout=30, proc=proc)
    admin = "http://" + found["admin"]
    wait_for(f"{name}: GET /readyz 200", lambda: http("GET", admin + "/readyz")[0] == 200,
             timeout=30, proc=proc)
    _, ready = http("GET", admin + "/readyz")
    parsed = json.loads(ready)
    if parsed.get("status") != "ready" or not parsed.get("store", "").startswith("redis "):
        raise Failed(f"{name}: /readyz answered {ready}")
    status, body = http("GET", admin + "/healthz")
    if status != 200:
        raise Failed(f"{name}: /healthz answered {status} {body}")
    say(f"{name}: public={found['public']} admin={found['admin']}, /readyz {ready}")
    return found["public"], admin


def start_nginx(procs, nginx, node_a, node_b):
    with open(TEMPLATE, encoding="utf-8") as f:
        template = f.read()
    prefix = os.path.join(procs.tmp, "nginx")
    os.makedirs(prefix, exist_ok=True)
    for attempt in range(5):
        port = free_port()
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(fill(template, {"@PREFIX@": prefix, "@PORT@": str(port),
                                    "@NODE_A@": node_a, "@NODE_B@": node_b}))
        proc = procs.start(f"nginx{attempt}" if attempt else "nginx",
                           [nginx, "-p", prefix, "-c", conf, "-e",
                            os.path.join(prefix, "error.log")])
        base = f"http://127.0.0.1:{port}"
        try:
            # Any answer of the mock through nginx (here its 404) means the chain is up.
            wait_for("nginx proxies to a node",
                     lambda: http("GET", base + "/api/ping")[0] == 404, timeout=15, proc=proc)
            return base, os.path.join(prefix, "access.log")
        except Failed:
            procs.stop_one(proc)  # the port was taken meanwhile, most likely
    raise Failed("nginx did not start (see its error.log)")


def run(binary, codes, tmp):
    redis_server, nginx = find_tool("redis-server"), find_tool("nginx")
    missing = [n for n, p in (("redis-server", redis_server), ("nginx", nginx)) if not p]
    if missing:
        say(f"skipped: {', '.join(missing)} not installed (apt-get install redis-server nginx-light)")
        return 77
    check_doc_copy()
    procs = Processes(tmp)
    ok = False
    try:
        redis_port = start_redis(procs, redis_server)
        nodes = [start_node(procs, binary, name, redis_port) for name in ("node-a", "node-b")]
        base, access_log = start_nginx(procs, nginx, nodes[0][0], nodes[1][0])
        say(f"nginx: {base} -> {nodes[0][0]}, {nodes[1][0]}")

        for i in range(codes):
            status, body = http("POST", base + SEND, {"identifierType": "email"})
            if status != 200:
                raise Failed(f"code {i}: send through nginx: {status} {body}")
            vid = json.loads(body)["verificationId"]
            # The inbox is shared: read it from each node in turn.
            inbox_node = nodes[i % 2][1]
            status, body = http("GET", inbox_node + "/admin/inbox?to=user@example.com&limit=100")
            if status != 200:
                raise Failed(f"code {i}: inbox of {inbox_node}: {status} {body}")
            found = [m for m in json.loads(body)["messages"] if m["verificationId"] == vid]
            if len(found) != 1 or found[0]["state"] != "pending":
                raise Failed(f"code {i}: {vid} not pending in the inbox of {inbox_node}: {body}")
            code = found[0]["code"]
            verify = {"verificationId": vid, "code": code, "identifierType": "email"}
            status, body = http("POST", base + VERIFY, verify)
            if status != 200 or json.loads(body).get("verificationId") != vid:
                raise Failed(f"code {i}: verify through nginx: {status} {body}")
            status, body = http("POST", base + VERIFY, verify)
            if status != 400 or json.loads(body).get("code") != "verification_code.not_found":
                raise Failed(f"code {i}: second verify through nginx: {status} {body}")
            say(f"code {i}: send 200 {vid}, inbox of {inbox_node}, verify 200, again 400 "
                "verification_code.not_found")

        # Who answered what, from nginx's access log. nginx writes a request's line after its
        # answer went out, so the last one may still be on its way.
        log = {}

        def read_log():
            with open(access_log, encoding="utf-8") as f:
                log["lines"] = [line.split() for line in f.read().splitlines()]
            entries = [(l[1], l[2], l[3].removeprefix("upstream="))
                       for l in log["lines"] if len(l) == 4]
            log["sends"] = [(s, u) for p, s, u in entries if p == SEND]
            log["verifies"] = [(s, u) for p, s, u in entries if p == VERIFY]
            return len(log["sends"]) == codes and len(log["verifies"]) == 2 * codes
        try:
            wait_for("nginx's access log", read_log, timeout=10)
        except Failed:
            raise Failed(f"access log: {len(log['sends'])} sends, {len(log['verifies'])} "
                         f"verifies, expected {codes} and {2 * codes}: {log['lines']}")
        sends, verifies = log["sends"], log["verifies"]
        upstreams = {nodes[0][0], nodes[1][0]}
        for what, rows in (("sends", sends), ("verifies", verifies)):
            seen = {u for _, u in rows}
            if seen != upstreams:
                raise Failed(f"access log: {what} answered by {sorted(seen)}, not by both nodes")
        crossed = sum(1 for i in range(codes) if sends[i][1] != verifies[2 * i][1])
        if crossed == 0:
            raise Failed("access log: no code was verified through another node than its send")
        say(f"access log: sends and verifies answered by both nodes; {crossed} of {codes} codes "
            "verified through another node than the one that sent them")
        ok = True
        return 0
    except Failed as err:
        print(f"[two-nodes] FAIL {err}", file=sys.stderr)
        procs.dump_logs()
        return 1
    finally:
        signal.alarm(0)  # the clean-up is bounded by its own waits; nothing interrupts it
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        procs.stop_all()
        say("stopped " + ", ".join(f"{n} (pid {p.pid}, exit {p.returncode})"
                                    for n, p, _ in procs.started))
        if ok:
            say("passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.environ.get("MFA_MOCK_BINARY"))
    ap.add_argument("--codes", type=int, default=6)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not a.binary or not os.access(a.binary, os.X_OK):
        print(f"two_nodes_nginx.py: no mfa-mock binary (--binary or MFA_MOCK_BINARY): {a.binary}",
              file=sys.stderr)
        return 2
    if not 2 <= a.codes <= 9:  # the default send limit (10 per recipient per 600 s) applies
        print("two_nodes_nginx.py: --codes must be 2 to 9", file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        if signum == signal.SIGALRM:
            raise Failed(f"the whole test took more than {OVERALL_TIMEOUT_S} s")
        raise Failed(f"stopped by signal {signum}")
    # A hang, or a SIGTERM from outside: stop what was started all the same.
    signal.signal(signal.SIGALRM, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.alarm(OVERALL_TIMEOUT_S)
    tmp = tempfile.mkdtemp(prefix="mfa-two-nodes.")
    rc = 1
    try:
        rc = run(os.path.abspath(a.binary), a.codes, tmp)
    except Failed as err:  # a timeout outside run()'s own try
        print(f"[two-nodes] FAIL {err}", file=sys.stderr)
    finally:
        signal.alarm(0)
        if rc == 0 and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            say(f"logs kept in {tmp}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
