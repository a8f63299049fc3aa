// SPDX-License-Identifier: Apache-2.0
// /admin/config (policy, connectors, faults), /admin/stats and /admin/clock.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"

namespace mfa {
namespace {

struct Handlers {
  MfaService& service;
  OffsetClock& clock;

  void GetConfig(const HttpRequest&, Reply& reply) const {
    reply.body = ConfigToJson(service.config().Get().config);
  }

  void PatchConfig(const HttpRequest& request, Reply& reply) const {
    AdminParseError error;
    bool applied = false;
    const Config config = service.config().Update([&](Config* c) {
      applied = ApplyConfigPatch(request.body, c, &error);
      return applied;
    });
    if (!applied) return SetParseError(reply, error);
    reply.body = ConfigToJson(config);
  }

  void Stats(const HttpRequest&, Reply& reply) const {
    const VerificationStore& store = service.store();
    JsonWriter(reply.body)
        .BeginObject()
        .Int("records", static_cast<int64_t>(store.size()))
        .Int("shards", static_cast<int64_t>(store.shard_count()))
        .Int("maxRecords", static_cast<int64_t>(store.max_records()))
        .Int("expiredSwept", static_cast<int64_t>(store.swept_total()))
        .Int("inboxMessages", static_cast<int64_t>(service.inbox().size()))
        .Int("inboxCapacity", static_cast<int64_t>(service.inbox().capacity()))
        .EndObject();
  }

  void GetClock(const HttpRequest&, Reply& reply) const { reply.body = ClockBody(clock); }

  void AdvanceClock(const HttpRequest& request, Reply& reply) const {
    int64_t seconds;
    AdminParseError error;
    if (!ParseClockAdvance(request.body, &seconds, &error)) return SetParseError(reply, error);
    clock.AdvanceMs(seconds * 1000);
    reply.body = ClockBody(clock);
  }

  void ResetClock(const HttpRequest&, Reply& reply) const {
    clock.Reset();
    reply.body = ClockBody(clock);
  }
};

}  // namespace

std::vector<Route> ConfigRoutes(MfaService& service, OffsetClock& clock) {
  const Handlers h{service, clock};
  return {
      {.method = Method::kGet, .path = "/admin/config", .handler = Bind(h, &Handlers::GetConfig)},
      {.method = Method::kPatch,
       .path = "/admin/config",
       .handler = Bind(h, &Handlers::PatchConfig)},
      {.method = Method::kGet, .path = "/admin/stats", .handler = Bind(h, &Handlers::Stats)},
      {.method = Method::kGet, .path = "/admin/clock", .handler = Bind(h, &Handlers::GetClock)},
      {.method = Method::kPost,
       .path = "/admin/clock/advance",
       .handler = Bind(h, &Handlers::AdvanceClock)},
      {.method = Method::kDelete,
       .path = "/admin/clock",
       .handler = Bind(h, &Handlers::ResetClock)},
  };
}

}  // namespace mfa
