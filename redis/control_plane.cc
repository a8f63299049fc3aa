// SPDX-License-Identifier: Apache-2.0
#include "redis/control_plane.h"

#include <charconv>
#include <future>

#include "redis/scripts.h"

namespace mfa::redis {
namespace {

int64_t ToInt(const Value& v) {
  if (v.type == Value::Type::kInteger) return v.integer;
  int64_t out = 0;
  std::from_chars(v.str.data(), v.str.data() + v.str.size(), out);
  return out;
}

bool Answered(const CallResult& r) {
  return r.error == CallError::kNone && r.value.type == Value::Type::kArray;
}

// Attempts of one write before it gives up on a store where others keep writing first.
constexpr int kMaxWriteAttempts = 20;

}  // namespace

RedisControlPlane::RedisControlPlane(Router& client, ControlPlaneOptions options,
                                     ControlState initial, Apply apply)
    : client_(client),
      options_(std::move(options)),
      initial_(std::move(initial)),
      apply_(std::move(apply)),
      control_key_(options_.prefix + ":{control}"),
      nodes_key_(options_.prefix + ":{control}:nodes"),
      applied_key_(options_.prefix + ":{control}:applied"),
      poll_script_(std::make_unique<Script>(EmbeddedScript(kControlPollLua, kControlPollLua_size))),
      publish_script_(
          std::make_unique<Script>(EmbeddedScript(kControlPublishLua, kControlPublishLua_size))) {}

RedisControlPlane::~RedisControlPlane() { Stop(); }

void RedisControlPlane::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RedisControlPlane::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<Write> writes;
  std::vector<Waiting> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes.swap(writes_);
    waiting.swap(waiting_);
  }
  for (Write& w : writes) w.done(Outcome::kStoreUnavailable);
  for (Waiting& w : waiting) w.done(Outcome::kStoreUnavailable);
}

void RedisControlPlane::Update(std::function<bool(ControlState*)> modify, Done<Outcome> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      writes_.push_back(Write{std::move(modify), std::move(done)});
      wake_.notify_all();
      return;
    }
  }
  done(Outcome::kStoreUnavailable);
}

CallResult RedisControlPlane::CallSync(const Script& script, std::vector<std::string> keys,
                                       std::vector<std::string> args) {
  // The control thread's own calls: waiting here blocks no request (bounded by the timeout).
  std::promise<CallResult> promise;
  std::future<CallResult> answer = promise.get_future();
  client_.CallScript(script, keys, args, "control",
                     [&promise](CallResult&& r) { promise.set_value(std::move(r)); });
  return answer.get();
}

bool RedisControlPlane::Poll() {
  const CallResult r = CallSync(*poll_script_, {control_key_, nodes_key_, applied_key_},
                                {options_.node_id, std::to_string(current_.version),
                                 std::to_string(options_.live_window.count())});
  if (!Answered(r) || r.value.elements.size() < 3) return false;
  const std::vector<Value>& e = r.value.elements;
  const int64_t version = ToInt(e[0]);
  lowest_applied_ = ToInt(e[1]);
  if (version == 0) {
    // Nothing published yet: this node's start-up settings become the deployment's.
    ControlState first = initial_;
    const CallResult published =
        CallSync(*publish_script_, {control_key_},
                 {"0", first.config, std::to_string(first.clock_offset_ms)});
    if (Answered(published) && published.value.elements.size() == 2 &&
        ToInt(published.value.elements[0]) == 1) {
      first.version = ToInt(published.value.elements[1]);
      current_ = first;
      apply_(current_);
      applied_version_.store(current_.version, std::memory_order_release);
    }
    return true;
  }
  if (version > current_.version && e.size() >= 5) {
    current_.version = version;
    current_.config = e[3].str;
    current_.clock_offset_ms = ToInt(e[4]);
    apply_(current_);
    applied_version_.store(version, std::memory_order_release);
    // Report it at once: a write on another node is waiting for exactly this.
    CallSync(*poll_script_, {control_key_, nodes_key_, applied_key_},
             {options_.node_id, std::to_string(current_.version),
              std::to_string(options_.live_window.count())});
  }
  return true;
}

void RedisControlPlane::RunWrite(Write& write) {
  for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
    if (!Poll()) return write.done(Outcome::kStoreUnavailable);
    ControlState next = current_;
    if (!write.modify(&next)) return write.done(Outcome::kInvalidInput);
    const CallResult r = CallSync(
        *publish_script_, {control_key_},
        {std::to_string(current_.version), next.config, std::to_string(next.clock_offset_ms)});
    if (!Answered(r) || r.value.elements.size() != 2) {
      return write.done(Outcome::kStoreUnavailable);
    }
    if (ToInt(r.value.elements[0]) != 1) continue;  // another node wrote first: again on its state
    next.version = ToInt(r.value.elements[1]);
    current_ = next;
    apply_(current_);
    applied_version_.store(next.version, std::memory_order_release);
    std::lock_guard<std::mutex> lock(mu_);
    waiting_.push_back(Waiting{next.version,
                               std::chrono::steady_clock::now() + options_.confirm_timeout,
                               std::move(write.done)});
    return;
  }
  write.done(Outcome::kStoreBusy);
}

void RedisControlPlane::Run() {
  for (;;) {
    std::deque<Write> writes;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) return;
      writes.swap(writes_);
    }
    for (Write& write : writes) RunWrite(write);
    const bool answered = Poll();
    std::vector<Done<Outcome>> finished;
    std::chrono::milliseconds interval = options_.poll_interval;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if ((answered && lowest_applied_ >= it->version) || now >= it->deadline) {
          finished.push_back(std::move(it->done));
          it = waiting_.erase(it);
        } else {
          ++it;
        }
      }
      if (!waiting_.empty()) interval = std::chrono::milliseconds(10);
    }
    // A write that waited out its bound is still in force: every node applies it on its next
    // poll; the ones that did not answer in time are about to leave the live set.
    for (Done<Outcome>& done : finished) done(Outcome::kOk);
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, interval, [this] { return stop_ || !writes_.empty(); });
  }
}

void RedisControlPlane::Nodes(Done<StoreAnswer<std::vector<ControlNode>>> done) {
  client_.Call(
      {"ZRANGE", nodes_key_, "0", "-1", "WITHSCORES"}, "control",
      [this, done = std::move(done)](CallResult&& nodes) {
        using Answer = StoreAnswer<std::vector<ControlNode>>;
        if (nodes.error != CallError::kNone || nodes.value.type != Value::Type::kArray) {
          return done(Answer{Outcome::kStoreUnavailable, {}});
        }
        auto answer = std::make_shared<Answer>();
        for (size_t i = 0; i + 1 < nodes.value.elements.size(); i += 2) {
          answer->value.push_back(
              ControlNode{nodes.value.elements[i].str, 0, ToInt(nodes.value.elements[i + 1])});
        }
        client_.Call({"HGETALL", applied_key_}, "control", [done, answer](CallResult&& applied) {
          if (applied.error != CallError::kNone) {
            return done(Answer{Outcome::kStoreUnavailable, {}});
          }
          for (size_t i = 0; i + 1 < applied.value.elements.size(); i += 2) {
            for (ControlNode& node : answer->value) {
              if (node.id == applied.value.elements[i].str) {
                node.applied_version = ToInt(applied.value.elements[i + 1]);
              }
            }
          }
          done(std::move(*answer));
        });
      });
}

}  // namespace mfa::redis
