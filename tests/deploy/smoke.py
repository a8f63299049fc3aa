#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A send and a verify against a running mfa-mock, as a new user would try it.

Usage: smoke.py PUBLIC_URL ADMIN_URL [--token TOKEN] [--wait SECONDS]
  e.g. smoke.py http://127.0.0.1:3001 http://127.0.0.1:3002
Waits (default 30 s) for GET ADMIN_URL/healthz, sends a code to the default user's email, reads it
from the admin inbox (with 'Authorization: Bearer TOKEN' when given; without it the admin API
must then answer 401), verifies it (200 with the same verificationId) and checks that a second
verify of the same code is refused. Prints one line per step; exit 0 when all passed, 1 otherwise.
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request

SEND = "/api/experience/verification/mfa-verification-code"


def call(method, url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("public")
    ap.add_argument("admin")
    ap.add_argument("--token")
    ap.add_argument("--wait", type=float, default=30)
    a = ap.parse_args()
    pub, adm = a.public.rstrip("/"), a.admin.rstrip("/")

    def fail(msg):
        print("smoke: FAIL " + msg, file=sys.stderr)
        sys.exit(1)

    deadline = time.monotonic() + a.wait
    while True:
        try:
            status, body = call("GET", adm + "/healthz")
            if status == 200:
                break
        except OSError as err:
            status, body = 0, str(err)
        if time.monotonic() > deadline:
            fail(f"GET {adm}/healthz: {status} {body}")
        time.sleep(0.5)
    print(f"smoke: healthz 200 {body.strip()}")

    status, body = call("POST", pub + SEND, {"identifierType": "email"})
    if status != 200:
        fail(f"send: {status} {body}")
    vid = json.loads(body)["verificationId"]
    print(f"smoke: send 200 verificationId={vid}")

    if a.token:
        status, body = call("GET", adm + "/admin/inbox/latest?to=user@example.com")
        if status != 401:
            fail(f"admin API without the token answered {status}, expected 401: {body}")
        print("smoke: admin API without the token 401")
    status, body = call("GET", adm + "/admin/inbox/latest?to=user@example.com", token=a.token)
    if status != 200:
        fail(f"inbox: {status} {body}")
    msg = json.loads(body)
    if msg.get("verificationId") != vid:
        fail(f"inbox: latest message is for {msg.get('verificationId')}, expected {vid}")
    print(f"smoke: inbox 200 code={msg['code']}")

    verify = {"verificationId": vid, "code": msg["code"], "identifierType": "email"}
    status, body = call("POST", pub + SEND + "/verify", verify)
    if status != 200 or json.loads(body).get("verificationId") != vid:
        fail(f"verify: {status} {body}")
    print(f"smoke: verify 200 {body.strip()}")
    status, body = call("POST", pub + SEND + "/verify", verify)
    if status < 400:
        fail(f"second verify of the same code answered {status}: {body}")
    print(f"smoke: second verify {status} {json.loads(body).get('code')}")
    print("smoke: passed")


if __name__ == "__main__":
    main()
