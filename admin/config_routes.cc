// SPDX-License-Identifier: Apache-2.0
// /admin/config (policy, connectors, faults), /admin/stats and /admin/clock.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "admin/inbox_waiters.h"
#include "http/answer_when_done.h"

namespace mfa {
namespace {

// A parse error found on the control plane's thread, for the answer.
struct PatchError {
  AdminParseError error;
};

struct Handlers {
  MfaService& service;
  OffsetClock& clock;
  ControlPlane* control;  // with a shared store: writes go through it to every node
  CodeStore& codes;
  const InboxWaiters& waiters;

  // A write of the shared settings, answered once every live node applied it.
  void SharedWrite(const HttpRequest& request, Reply& reply,
                   std::function<bool(ControlState*, AdminParseError*)> modify,
                   std::function<void(Reply&)> answer) const {
    auto failure = std::make_shared<PatchError>();
    AnswerWhenDone<Outcome>(
        request, reply,
        [&](Done<Outcome> done) {
          control->Update([modify, failure](ControlState* s) { return modify(s, &failure->error); },
                          std::move(done));
        },
        [failure, answer](Reply& out, Outcome outcome) {
          if (outcome == Outcome::kInvalidInput) return SetParseError(out, failure->error);
          if (outcome != Outcome::kOk) return SetError(out, outcome);
          answer(out);
        });
  }

  void GetConfig(const HttpRequest&, Reply& reply) const {
    reply.body = ConfigToJson(service.config().Get().config);
  }

  void PatchConfig(const HttpRequest& request, Reply& reply) const {
    if (control != nullptr) {
      return SharedWrite(
          request, reply,
          [body = std::string(request.body), base = service.config().Get().config](
              ControlState* s, AdminParseError* error) {
            Config config = base;
            AdminParseError ignored;
            ApplyConfigPatch(s->config, &config, &ignored);  // the deployment's, then the patch
            if (!ApplyConfigPatch(body, &config, error)) return false;
            s->config = ConfigToJson(config);
            return true;
          },
          [&config = service.config()](Reply& out) {
            out.body = ConfigToJson(config.Get().config);
          });
    }
    AdminParseError error;
    bool applied = false;
    const Config config = service.config().Update([&](Config* c) {
      applied = ApplyConfigPatch(request.body, c, &error);
      return applied;
    });
    if (!applied) return SetParseError(reply, error);
    reply.body = ConfigToJson(config);
  }

  void Stats(const HttpRequest& request, Reply& reply) const {
    if (control != nullptr) {
      // The deployment: its store, its derived records, and its live nodes with the settings
      // version each applied.
      struct Answer {
        StoreAnswer<std::vector<ControlNode>> nodes;
        uint64_t derived_records = 0;
      };
      return AnswerWhenDone<Answer>(
          request, reply,
          [&](Done<Answer> done) {
            codes.CountDerivedRecords(
                [control = control, done = std::move(done)](StoreAnswer<uint64_t> derived) {
                  if (derived.outcome != Outcome::kOk) {
                    return done(Answer{{derived.outcome, {}}, 0});
                  }
                  control->Nodes(
                      [done, records = derived.value](StoreAnswer<std::vector<ControlNode>> nodes) {
                        done(Answer{std::move(nodes), records});
                      });
                });
          },
          [store = codes.Describe(), version = control->applied_version(),
           waiting = static_cast<int64_t>(waiters.waiting())](Reply& out, const Answer& answer) {
            const StoreAnswer<std::vector<ControlNode>>& nodes = answer.nodes;
            if (nodes.outcome != Outcome::kOk) return SetError(out, nodes.outcome);
            JsonWriter json(out.body);
            json.BeginObject()
                .String("store", store)
                .Int("settingsVersion", version)
                .Int("inboxWaiters", waiting)
                .Int("derivedRecords", static_cast<int64_t>(answer.derived_records))
                .Key("nodes")
                .BeginArray();
            for (const ControlNode& n : nodes.value) {
              json.BeginObject()
                  .String("id", n.id)
                  .Int("settingsVersion", n.applied_version)
                  .Int("lastSeenMs", n.last_seen_ms)
                  .EndObject();
            }
            json.EndArray().EndObject();
          });
    }
    const VerificationStore& store = service.store();
    JsonWriter(reply.body)
        .BeginObject()
        .Int("records", static_cast<int64_t>(store.size()))
        .Int("shards", static_cast<int64_t>(store.shard_count()))
        .Int("maxRecords", static_cast<int64_t>(store.max_records()))
        .Int("expiredSwept", static_cast<int64_t>(store.swept_total()))
        .Int("inboxMessages", static_cast<int64_t>(service.inbox().size()))
        .Int("inboxCapacity", static_cast<int64_t>(service.inbox().capacity()))
        .Int("inboxWaiters", static_cast<int64_t>(waiters.waiting()))
        .EndObject();
  }

  void GetClock(const HttpRequest&, Reply& reply) const { reply.body = ClockBody(clock); }

  void AdvanceClock(const HttpRequest& request, Reply& reply) const {
    int64_t seconds;
    AdminParseError error;
    if (!ParseClockAdvance(request.body, &seconds, &error)) return SetParseError(reply, error);
    if (control != nullptr) {
      return SharedWrite(
          request, reply,
          [seconds](ControlState* s, AdminParseError*) {
            s->clock_offset_ms += seconds * 1000;
            return true;
          },
          [&clock = clock](Reply& out) { out.body = ClockBody(clock); });
    }
    clock.AdvanceMs(seconds * 1000);
    reply.body = ClockBody(clock);
  }

  void ResetClock(const HttpRequest& request, Reply& reply) const {
    if (control != nullptr) {
      return SharedWrite(
          request, reply,
          [](ControlState* s, AdminParseError*) {
            s->clock_offset_ms = 0;
            return true;
          },
          [&clock = clock](Reply& out) { out.body = ClockBody(clock); });
    }
    clock.Reset();
    reply.body = ClockBody(clock);
  }
};

}  // namespace

std::vector<Route> ConfigRoutes(MfaService& service, OffsetClock& clock, ControlPlane* control,
                                CodeStore& codes, const InboxWaiters& waiters) {
  const Handlers h{service, clock, control, codes, waiters};
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
