-- SPDX-License-Identifier: Apache-2.0
-- wrk script: every request is a real, successful MFA verify.
--
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/verify.lua http://127.0.0.1:PORT -- FILE [THREADS [wrap]]
--
-- FILE is a CSV exported by GET /admin/verifications/export?batch=ID&format=csv
-- (verificationId,code,identifierType,identifier, with a header line); env MFA_BENCH_CSV,
-- MFA_BENCH_THREADS and MFA_BENCH_WRAP=1 work too. THREADS must equal wrk's -t (default 2).
--
-- Each wrk thread walks its own disjoint slice of FILE (rows i with i % THREADS == thread id),
-- one row per request, so no (id, code) pair is sent twice. The file is read as the run goes,
-- not loaded up front: wrk calls each thread's init() while the threads created before it are
-- already sending, and those requests count in a run whose clock has not started yet, so a slow
-- init() (parsing millions of rows into a table) would inflate req/s. Reading a buffered line
-- costs about what a table lookup does.
--
-- MFA_BENCH_PORTS=P1,P2,... spreads the threads over several servers on 127.0.0.1 (thread i
-- connects to port i % #ports, the URL's port is then unused): bench/run.sh --store cluster
-- drives two mfa-mock nodes from one wrk that way.
--
-- Without "wrap", a thread that reaches the end of its slice stops and reports it (a wrapped
-- pair would answer 400): size the exported batch above rate x duration. With "wrap" the
-- slice restarts; only for targets that ignore the body (nginx, bare Pistache).
--
-- done() prints one line for bench/run.sh:
--   MFA_RESULT mode=verify ok=N expected=N errors=N exhausted=N late=N rows=N
-- ok = 200s; errors = anything else; late = responses that arrived after a thread ran out.
-- verify_wrong.lua reuses this file with MFA_WRONG_CODES = true: every code is wrong, 400 is
-- "expected" and anything else (200 included) is an error.

local wrong_codes = MFA_WRONG_CODES == true
local path = os.getenv("MFA_BENCH_PATH") or "/api/experience/verification/mfa-verification-code/verify"
local req_headers = { ["Content-Type"] = "application/json" }

-- ---- main Lua state: give each thread its id; gather the counts at the end ----------------
local threads = {}
local ports = {}
for port in string.gmatch(os.getenv("MFA_BENCH_PORTS") or "", "%d+") do table.insert(ports, port) end

function setup(thread)
  local id = #threads
  thread:set("thread_id", id)
  if #ports > 0 then thread.addr = wrk.lookup("127.0.0.1", ports[id % #ports + 1])[1] end
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local ok, expected, errors, exhausted, late, rows = 0, 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("n_ok") or 0)
    expected = expected + (t:get("n_expected") or 0)
    errors = errors + (t:get("n_errors") or 0)
    exhausted = exhausted + (t:get("n_exhausted") or 0)
    late = late + (t:get("n_late") or 0)
    rows = rows + (t:get("n_rows") or 0)
  end
  io.write(string.format("MFA_RESULT mode=%s ok=%d expected=%d errors=%d exhausted=%d late=%d rows=%d\n",
    wrong_codes and "verify_wrong" or "verify", ok, expected, errors, exhausted, late, rows))
end

-- ---- per-thread Lua state ------------------------------------------------------------------
n_ok, n_expected, n_errors, n_exhausted, n_late, n_rows = 0, 0, 0, 0, 0, 0

local file, stride, wrap, fallback

local function rewind()
  file:seek("set", 0)
  file:read("*l") -- header
  for _ = 1, thread_id do file:read("*l") end
end

local function next_row()
  local line = file:read("*l")
  if line == nil or line == "" then
    if not wrap then return nil end
    rewind()
    line = file:read("*l")
    if line == nil or line == "" then return nil end
  end
  for _ = 2, stride do file:read("*l") end
  return line:match("^([^,]*),([^,]*),([^,]*)")
end

-- A wrong code of the same shape: each digit moved by one (never the stored code).
local function wrong(code)
  return (code:gsub("%d", function(d) return tostring((tonumber(d) + 1) % 10) end))
end

function init(args)
  local csv = args[1] or os.getenv("MFA_BENCH_CSV")
  if csv == nil or csv == "" then
    error("verify.lua: pass the CSV: wrk ... -s verify.lua URL -- FILE [THREADS [wrap]]")
  end
  stride = tonumber(args[2] or os.getenv("MFA_BENCH_THREADS") or "2")
  local w = args[3] or os.getenv("MFA_BENCH_WRAP") or "0"
  wrap = (w == "1" or w == "wrap")
  thread_id = thread_id or 0
  file = assert(io.open(csv, "r"))
  rewind()
  -- Sent only after this thread ran out (its answer is counted as "late", never as ok).
  fallback = wrk.format("POST", path, req_headers,
    '{"verificationId":"exhausted","code":"000000","identifierType":"email"}')
end

local stopped = false

function request()
  if not stopped then
    local id, code, itype = next_row()
    if id ~= nil then
      n_rows = n_rows + 1
      if wrong_codes then code = wrong(code) end
      return wrk.format("POST", path, req_headers,
        '{"verificationId":"' .. id .. '","code":"' .. code .. '","identifierType":"' .. itype .. '"}')
    end
    stopped = true
    wrk.thread:stop()
  end
  n_exhausted = n_exhausted + 1
  return fallback
end

function response(status, headers, body)
  if stopped then
    n_late = n_late + 1
  elseif status == 200 then
    if wrong_codes then n_errors = n_errors + 1 else n_ok = n_ok + 1 end
  elseif status == 400 and wrong_codes then
    n_expected = n_expected + 1
  else
    n_errors = n_errors + 1
  end
end
