// SPDX-License-Identifier: Apache-2.0
// The transport: a Pistache endpoint feeding a Dispatcher. With its .cc, the only code that
// knows Pistache; it handles the framework's traps in one place (keep-alive, JSON errors for
// oversized or malformed requests, no exception text on the wire, answers from any thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/dispatcher.h"

namespace Pistache::Http {
class Endpoint;
}

namespace mfa {

// A running Pistache endpoint serving one Dispatcher.
struct StreamGate;  // the bodies a listener streams from other threads

class HttpListener {
 public:
  // Binds immediately (port 0 = any free port); throws std::runtime_error on failure.
  HttpListener(const std::string& host, uint16_t port, int threads,
               std::shared_ptr<const Dispatcher> dispatcher);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  void Start();  // non-blocking
  // Ends the bodies still streaming from other threads (exports: their clients see the body cut,
  // without its terminator), waits until none is writing, then stops the endpoint.
  void Shutdown();
  uint16_t port() const;

  // Answers completed from another thread (deferred) that the transport has queued but not yet
  // written, in every listener of the process. Shutdown waits for it to reach 0 before it closes
  // the listeners, which would otherwise drop those bytes (e.g. waiters answered at SIGTERM).
  static int64_t QueuedAnswers();

 private:
  std::shared_ptr<const Dispatcher> dispatcher_;
  std::shared_ptr<StreamGate> streams_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace mfa
