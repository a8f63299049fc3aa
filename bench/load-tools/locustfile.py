# SPDX-License-Identifier: Apache-2.0
"""Locust against mfa-mock's verify route: every request a first-time correct (id, code) pair
from an export, each row sent once, so every answer should be 200 (anything else is a failure).

    MFA_CODES=codes.ndjson locust -f bench/load-tools/locustfile.py --headless \
        -u 32 -r 32 -t 10s --host http://127.0.0.1:3001 --only-summary

MFA_CODES is an export in NDJSON or CSV (GET /admin/verifications/export); codes are read as
strings, leading zeros kept. Running out of rows fails the run (exit 1): export more than
req/s x duration. Debian: apt-get install python3-locust.
"""
import csv
import json
import os

from locust import FastHttpUser, events, task
from locust.exception import StopUser

VERIFY_PATH = "/api/experience/verification/mfa-verification-code/verify"


def load_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        first = f.readline()
        f.seek(0)
        if first.lstrip().startswith("{"):
            rows = [json.loads(line) for line in f if line.strip()]
        else:
            rows = list(csv.DictReader(f))  # every value a str: "075746" stays "075746"
    return [{"verificationId": r["verificationId"], "code": r["code"],
             "identifierType": r["identifierType"]} for r in rows]


ROWS = load_rows(os.environ.get("MFA_CODES", "codes.ndjson"))
# One process, gevent users: next() on a shared iterator hands each row out once.
NEXT_ROW = iter(ROWS)
STATE = {"exhausted": False, "used": 0}


class Verifier(FastHttpUser):
    @task
    def verify(self):
        row = next(NEXT_ROW, None)
        if row is None:
            STATE["exhausted"] = True
            raise StopUser()
        STATE["used"] += 1
        with self.client.post(VERIFY_PATH, json=row, name="verify", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")


@events.quitting.add_listener
def report(environment, **_kwargs):
    stats = environment.stats.total
    print("LOAD_RESULT " + json.dumps({
        "requests": stats.num_requests, "failures": stats.num_failures,
        "rps": round(stats.total_rps), "p99Ms": stats.get_response_time_percentile(0.99),
        "exhausted": STATE["exhausted"], "codesUsed": STATE["used"]}))
    if STATE["exhausted"] or stats.num_failures:
        environment.process_exit_code = 1
