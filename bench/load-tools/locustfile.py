# SPDX-License-Identifier: Apache-2.0
"""Locust against mfa-mock's verify route: every request a first-time correct (id, code) pair
from an export, each row sent once, so every answer should be 200 (anything else is a failure).

    MFA_CODES=codes.ndjson locust -f bench/load-tools/locustfile.py --headless \
        -u 32 -r 32 -t 10s --host http://127.0.0.1:3001 --only-summary

MFA_CODES is an export in any format (CSV, NDJSON or JSON) (GET /admin/verifications/export); codes are read as
strings, leading zeros kept. Running out of rows fails the run (exit 1): export more than
req/s x duration. Debian: apt-get install python3-locust.
"""
import csv
import json
import os

from locust import FastHttpUser, events, task
from locust.exception import StopUser

VERIFY_PATH = "/api/experience/verification/mfa-verification-code/verify"


def rows_of(path):
    """The verify bodies of an export, read from the file as they are asked for: memory stays flat
    for any batch, and Locust starts at once (with a million rows read up front, Locust 2.12's
    --run-time ended the run within milliseconds of its start)."""
    f = open(path, encoding="utf-8", newline="")  # pylint: disable=consider-using-with
    first = f.readline()
    if first.lstrip().startswith("["):  # format=json: one document, read whole
        f.seek(0)
        rows = json.load(f)
    elif first.lstrip().startswith("{"):  # format=ndjson
        rows = _ndjson(first, f)
    else:  # format=csv: every value a str, so "075746" stays "075746"
        rows = csv.DictReader(f, fieldnames=next(csv.reader([first])))
    return ({"verificationId": r["verificationId"], "code": r["code"],
             "identifierType": r["identifierType"]} for r in rows)


def _ndjson(first, f):
    yield json.loads(first)
    for line in f:
        if line.strip():
            yield json.loads(line)


# One process, gevent users: next() on one shared iterator hands each row out once.
NEXT_ROW = rows_of(os.environ.get("MFA_CODES", "codes.ndjson"))
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
