// Placeholder until the Prometheus implementation lands: falls back to the no-op recorder.
#include "metrics/metrics.h"

namespace mfa::metrics {

std::unique_ptr<Metrics> CreatePrometheusMetrics(const BuildInfo&) { return CreateNoopMetrics(); }

}  // namespace mfa::metrics
