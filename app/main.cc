// SPDX-License-Identifier: Apache-2.0
// mfa-mock's entry point. The server is app/server.cc; a request goes from the transport
// (http/pistache_listener.cc) through the dispatcher (http/dispatcher.cc) to a route group
// (app/experience_routes.cc, admin/*_routes.cc) and the domain (core/). See docs/architecture.md.
#include <pthread.h>
#include <signal.h>

#include <iostream>

#include "app/options.h"
#include "app/server.h"
#include "http/log.h"

namespace mfa {
namespace {

constexpr int kExitUsage = 2;

int Run(int argc, char** argv) {
  AppOptions options;
  std::string message;
  switch (ParseOptions(argc, argv, &options, &message)) {
    case ParseStatus::kExitOk:
      std::cout << message;
      return 0;
    case ParseStatus::kExitUsage:
      std::cerr << message << std::endl;
      return kExitUsage;
    case ParseStatus::kRun:
      break;
  }
  InitLogging(options.log_level);

  // Block the stop signals before any thread starts so only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Server server(std::move(options));
  if (const Status status = server.Start(); !status.ok()) {
    std::cerr << "mfa-mock: " << status.message() << std::endl;
    return status.code() == Status::Code::kInvalidArgument ? kExitUsage : 1;
  }
  std::cout << server.ReadyLine() << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogInfo("received signal {}, draining requests in flight", signal_number);
  return server.Shutdown() ? 0 : 1;
}

}  // namespace
}  // namespace mfa

int main(int argc, char** argv) {
  try {
    return mfa::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mfa-mock: " << e.what() << std::endl;
    return 1;
  }
}
