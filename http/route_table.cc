// SPDX-License-Identifier: Apache-2.0
#include "http/route_table.h"

#include <algorithm>

namespace mfa {

bool MatchPath(std::string_view pattern, std::string_view path, std::string_view* id) {
  while (!pattern.empty()) {
    const size_t brace = pattern.find("{id}");
    if (brace == std::string_view::npos) return path == pattern;
    if (path.substr(0, brace) != pattern.substr(0, brace)) return false;
    path.remove_prefix(brace);
    pattern.remove_prefix(brace + 4);
    const size_t end = path.find('/');
    *id = path.substr(0, end);
    if (id->empty()) return false;
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return path.empty();
}

RouteTable::RouteTable(std::vector<Route> routes, metrics::Listener listener,
                       metrics::Metrics& metrics)
    : routes_(std::move(routes)) {
  for (Route& route : routes_) {
    route.metric_route = metrics.RegisterRoute(listener, route.path);
    metrics.DeclareRequest(route.metric_route, MethodName(route.method), route.success_status);
  }
  unmatched_route_ = metrics.RegisterRoute(listener, "unmatched");
}

const Route* RouteTable::Match(std::string_view path, Method method, std::string_view* id,
                               std::vector<Method>* allowed) const {
  for (const Route& route : routes_) {
    std::string_view segment;
    if (!MatchPath(route.path, path, &segment)) continue;
    if (route.method == method) {
      *id = segment;
      return &route;
    }
    if (std::find(allowed->begin(), allowed->end(), route.method) == allowed->end()) {
      allowed->push_back(route.method);
    }
  }
  return nullptr;
}

}  // namespace mfa
