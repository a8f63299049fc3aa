// SPDX-License-Identifier: Apache-2.0
#include "tests/support/wait.h"

namespace mfa_test {

::testing::AssertionResult WaitFor(std::string_view what, const std::function<bool()>& reached,
                                   const std::function<std::string()>& observed,
                                   std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds poll) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  int polls = 0;
  while (true) {
    ++polls;
    if (reached()) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(poll);
  }
  const auto waited =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  failure << "timed out waiting for " << what << " (bound " << timeout.count() << " ms, waited "
          << waited << " ms, " << polls << " polls)";
  if (observed) failure << "; observed instead: " << observed();
  return failure;
}

}  // namespace mfa_test
