-- SPDX-License-Identifier: Apache-2.0
-- wrk script: the verify failure path. Same walk as verify.lua, but every code is wrong (each
-- digit moved by one), so every answer should be 400 verification_code.code_mismatch (or
-- exceed_max_try once an id has used its attempts: start mfa-mock with a high --max-attempts,
-- as bench/run.sh does, to keep it on code_mismatch). 400s are reported as "expected", anything
-- else as errors. Pass "wrap" (args[3]): walking an exported sample again is fine here.
--
--   wrk -t2 -c64 -d10s --latency -s bench/wrk/verify_wrong.lua http://127.0.0.1:PORT -- FILE 2 wrap
MFA_WRONG_CODES = true
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "verify.lua")
