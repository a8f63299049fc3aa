// SPDX-License-Identifier: Apache-2.0
#include "metrics/metrics.h"

namespace mfa::metrics {
namespace {

class NoopMetrics final : public Metrics {
 public:
  RouteId RegisterRoute(Listener, std::string_view) override { return next_route_++; }
  void DeclareRequest(RouteId, std::string_view, int) override {}
  void SetScrapeSources(ScrapeSources) override {}
  void VerifyAttempt(IdentifierType, Outcome) override {}
  void CodeSent(IdentifierType, Via) override {}
  void SendRejected(Outcome) override {}
  void CodesSeeded(SeedSource, uint64_t) override {}
  void HttpRequest(Listener, RouteId, std::string_view, int, double) override {}
  std::string Render() override { return {}; }

 private:
  RouteId next_route_ = 0;
};

}  // namespace

std::unique_ptr<Metrics> CreateNoopMetrics() { return std::make_unique<NoopMetrics>(); }

}  // namespace mfa::metrics
