// SPDX-License-Identifier: Apache-2.0
// A route: data, declared with designated initialisers by each route group.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "http/reply.h"
#include "http/request.h"
#include "metrics/metrics.h"

namespace mfa {

// Fills `reply` (answered when it returns) or calls request.Defer() (answered later). Throwing
// is a bug: the dispatcher answers 500 unexpected and logs it.
using RouteHandler = std::function<void(const HttpRequest& request, Reply& reply)>;

// Who may call a route on a listener with an admin token (listeners without one are open).
enum class Access : uint8_t { kToken, kOpen };

// Which injected faults (PATCH /admin/config {"faults": ...}) a route takes.
enum class FaultKey : uint8_t { kNone, kSend, kVerify };

struct Route {
  Method method = Method::kGet;
  std::string_view path = {};  // a string literal; "{id}" matches one non-empty segment
  RouteHandler handler = {};
  Access access = Access::kToken;
  int success_status = 200;  // its request-count series exists at 0 from the first scrape
  FaultKey fault = FaultKey::kNone;
  metrics::RouteId metric_route = 0;  // set by RouteTable
};

// A handler that is a const member function of a group of handlers (the group is copied: it
// holds references to what outlives the routes). Lets route tables name their handlers.
template <typename Group>
RouteHandler Bind(const Group& group, void (Group::*handler)(const HttpRequest&, Reply&) const) {
  return [group, handler](const HttpRequest& request, Reply& reply) {
    (group.*handler)(request, reply);
  };
}

}  // namespace mfa
