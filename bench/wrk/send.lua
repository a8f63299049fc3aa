-- SPDX-License-Identifier: Apache-2.0
-- wrk script: the public send route (POST /api/experience/verification/mfa-verification-code).
-- Every request creates a record and an inbox message for the default user, so start mfa-mock
-- with --send-limit 0 (otherwise the per-recipient limit answers 429 after a few sends).
--
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/send.lua http://127.0.0.1:PORT [-- phone]
--
-- done() prints: MFA_RESULT mode=send ok=N expected=0 errors=N exhausted=0 late=0 rows=0
-- (ok = 200s, errors = anything else).
local path = os.getenv("MFA_BENCH_SEND_PATH") or "/api/experience/verification/mfa-verification-code"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

n_ok, n_errors = 0, 0
local req

function init(args)
  local itype = args[1] or "email"
  req = wrk.format("POST", path, { ["Content-Type"] = "application/json" },
    '{"identifierType":"' .. itype .. '"}')
end

function request()
  return req
end

function response(status, headers, body)
  if status == 200 then n_ok = n_ok + 1 else n_errors = n_errors + 1 end
end

function done(summary, latency, requests)
  local ok, errors = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("n_ok") or 0)
    errors = errors + (t:get("n_errors") or 0)
  end
  io.write(string.format("MFA_RESULT mode=send ok=%d expected=0 errors=%d exhausted=0 late=0 rows=0\n",
    ok, errors))
end
