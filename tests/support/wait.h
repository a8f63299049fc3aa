// SPDX-License-Identifier: Apache-2.0
// Waiting for a state instead of a duration. A test that needs the server (or a thread) to reach
// some state polls for it with WaitFor; the bound only limits how long a broken build makes the
// test wait, so it is generous (kStateTimeout), and when it runs out the failure says what was
// awaited, for how long, and what was seen last.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace mfa_test {

// The default bound for a wait on a state that a healthy server reaches in milliseconds: long
// enough for a sanitized build on a 2-core machine whose cores are both busy with other work.
inline constexpr std::chrono::milliseconds kStateTimeout = std::chrono::seconds(60);

// Polls `reached` every `poll` until it returns true or `timeout` runs out. On expiry the
// failure names `what`, the timeout, the number of polls, and `observed()` (if given), called
// once more after the last poll to describe the state that was seen instead.
::testing::AssertionResult WaitFor(std::string_view what, const std::function<bool()>& reached,
                                   const std::function<std::string()>& observed = {},
                                   std::chrono::milliseconds timeout = kStateTimeout,
                                   std::chrono::milliseconds poll = std::chrono::milliseconds(10));

}  // namespace mfa_test
