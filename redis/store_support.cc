// SPDX-License-Identifier: Apache-2.0
#include "redis/store_support.h"

#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "redis/slot.h"

namespace mfa::redis {

std::string Decimal(int64_t value) { return std::to_string(value); }

int64_t ParseInt(std::string_view s) {
  int64_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

Outcome VerifyOutcome(std::string_view answer) {
  static constexpr std::pair<std::string_view, Outcome> kAnswers[] = {
      {"ok", Outcome::kOk},
      {"verification_not_found", Outcome::kVerificationNotFound},
      {"identifier_not_found", Outcome::kIdentifierNotFound},
      {"blocked", Outcome::kVerificationBlocked},
      {"code_not_found", Outcome::kCodeNotFound},
      {"expired", Outcome::kCodeExpired},
      {"exceed_max_try", Outcome::kExceedMaxTry},
      {"code_mismatch", Outcome::kCodeMismatch},
  };
  for (const auto& [text, outcome] : kAnswers) {
    if (answer == text) return outcome;
  }
  return Outcome::kInternal;
}

Outcome Failure(const CallResult& result) {
  switch (result.error) {
    case CallError::kNone:
      break;
    case CallError::kOverloaded:
      return Outcome::kStoreBusy;
    default:
      return Outcome::kStoreUnavailable;
  }
  if (result.value.type != Value::Type::kError) return Outcome::kOk;
  const std::string& e = result.value.str;
  if (e.rfind("OOM", 0) == 0) return Outcome::kStoreFull;  // Redis's maxmemory is the cap
  for (std::string_view transient :
       {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "MOVED", "ASK"}) {
    if (e.rfind(transient, 0) == 0) return Outcome::kStoreUnavailable;
  }
  return Outcome::kInternal;  // a script error is a bug of ours
}

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

bool NextField(std::string_view& in, std::string_view* field) {
  const size_t colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const int64_t length = ParseInt(in.substr(0, colon));
  if (length < 0 || static_cast<size_t>(length) > in.size() - colon - 1) return false;
  *field = in.substr(colon + 1, static_cast<size_t>(length));
  in.remove_prefix(colon + 1 + static_cast<size_t>(length));
  return true;
}

namespace {

// One UnlinkMatching, page after page, master after master. Touched by one thread at a time
// (each page starts the next from its completion).
struct UnlinkFlow {
  Router& client;
  std::string pattern;
  std::string op;
  std::vector<std::string> masters;
  size_t master = 0;
  std::string cursor = "0";
  size_t deleted = 0;
  Done<StoreAnswer<size_t>> done;
};

void UnlinkPage(std::shared_ptr<UnlinkFlow> flow) {
  flow->client.CallOn(flow->masters[flow->master],
                      {"SCAN", flow->cursor, "MATCH", flow->pattern, "COUNT", "1000"},
                      flow->op + "_scan", [flow](CallResult&& r) {
                        StoreAnswer<size_t> failed;
                        failed.outcome = Failure(r);
                        if (failed.outcome == Outcome::kOk &&
                            (r.value.type != Value::Type::kArray || r.value.elements.size() != 2)) {
                          failed.outcome = Outcome::kInternal;
                        }
                        if (failed.outcome != Outcome::kOk) return flow->done(failed);
                        flow->cursor = r.value.elements[0].str;
                        // One UNLINK per slot: a cluster refuses keys of several slots in one
                        // command.
                        std::map<uint16_t, std::vector<std::string>> by_slot;
                        for (Value& key : r.value.elements[1].elements) {
                          std::vector<std::string>& unlink = by_slot[KeySlot(key.str)];
                          if (unlink.empty()) unlink.push_back("UNLINK");
                          unlink.push_back(std::move(key.str));
                        }
                        auto next = [flow] {
                          if (flow->cursor == "0" && ++flow->master == flow->masters.size()) {
                            return flow->done({Outcome::kOk, flow->deleted});
                          }
                          UnlinkPage(flow);
                        };
                        std::vector<std::vector<std::string>> commands;
                        for (auto& [slot, unlink] : by_slot) commands.push_back(std::move(unlink));
                        CallAll(flow->client, std::move(commands), flow->op + "_delete",
                                [flow, next](StoreAnswer<int64_t> deleted) {
                                  if (deleted.outcome != Outcome::kOk)
                                    return flow->done({deleted.outcome, 0});
                                  flow->deleted += static_cast<size_t>(deleted.value);
                                  next();
                                });
                      });
}

}  // namespace

void CallAll(Router& client, std::vector<std::vector<std::string>> commands, std::string_view op,
             Done<StoreAnswer<int64_t>> done) {
  if (commands.empty()) return done({Outcome::kOk, 0});
  struct Tally {
    std::mutex mu;
    size_t left;                  // GUARDED_BY(mu)
    StoreAnswer<int64_t> answer;  // GUARDED_BY(mu)
    Done<StoreAnswer<int64_t>> done;
  };
  auto tally = std::make_shared<Tally>();
  tally->left = commands.size();
  tally->done = std::move(done);
  for (std::vector<std::string>& command : commands) {
    client.Call(std::move(command), op, [tally](CallResult&& r) {
      std::unique_lock<std::mutex> lock(tally->mu);
      const Outcome failure = Failure(r);
      if (failure != Outcome::kOk && tally->answer.outcome == Outcome::kOk) {
        tally->answer.outcome = failure;
      }
      if (failure == Outcome::kOk) tally->answer.value += r.value.integer;
      if (--tally->left != 0) return;
      const StoreAnswer<int64_t> answer = tally->answer;
      lock.unlock();
      tally->done(answer);
    });
  }
}

void UnlinkMatching(Router& client, std::string pattern, std::string_view op,
                    Done<StoreAnswer<size_t>> done) {
  std::vector<std::string> masters = client.Masters();
  if (masters.empty()) return done({Outcome::kStoreUnavailable, 0});
  UnlinkPage(
      std::make_shared<UnlinkFlow>(UnlinkFlow{client, std::move(pattern), std::string(op),
                                              std::move(masters), 0, "0", 0, std::move(done)}));
}

}  // namespace mfa::redis
