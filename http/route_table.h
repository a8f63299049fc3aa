// SPDX-License-Identifier: Apache-2.0
// The routes of one listener, matched by path and method.
#pragma once

#include <string_view>
#include <vector>

#include "http/route.h"
#include "metrics/metrics.h"

namespace mfa {

// Immutable after construction. Thread-safe.
class RouteTable {
 public:
  // Registers each route's metric series (and an "unmatched" one) with `metrics`.
  RouteTable(std::vector<Route> routes, metrics::Listener listener, metrics::Metrics& metrics);

  // The route for (path, method) with `id` set to its {id} segment; else null, with `allowed`
  // holding the methods the path has (empty: no route has the path).
  const Route* Match(std::string_view path, Method method, std::string_view* id,
                     std::vector<Method>* allowed) const;
  metrics::RouteId unmatched_route() const { return unmatched_route_; }

 private:
  std::vector<Route> routes_;
  metrics::RouteId unmatched_route_;
};

// True if `path` matches `pattern` ("{id}" = one non-empty segment); `id` receives it.
bool MatchPath(std::string_view pattern, std::string_view path, std::string_view* id);

}  // namespace mfa
