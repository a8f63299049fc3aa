// SPDX-License-Identifier: Apache-2.0
#include "redis/router.h"

#include <algorithm>
#include <charconv>
#include <future>
#include <optional>
#include <utility>

namespace mfa::redis {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Redirects one call may follow (a slot moving twice in a row is already rare).
constexpr int kMaxRedirects = 5;
// While the topology is unknown, the seeds are asked this often.
constexpr std::chrono::milliseconds kDiscoveryInterval{20};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381": the slot and the address.
bool ParseRedirect(std::string_view error, uint16_t* slot, std::string* address) {
  const size_t first = error.find(' ');
  const size_t second = error.find(' ', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return false;
  const std::string_view number = error.substr(first + 1, second - first - 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || value >= kSlotCount) {
    return false;
  }
  *slot = static_cast<uint16_t>(value);
  *address = std::string(error.substr(second + 1));
  return !address->empty();
}

bool SplitAddress(const std::string& address, std::string* host, uint16_t* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  unsigned value = 0;
  const char* begin = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [end, ec] = std::from_chars(begin, last, value);
  if (ec != std::errc() || end != last || value == 0 || value > 65535) return false;
  *host = address.substr(0, colon);
  *port = static_cast<uint16_t>(value);
  return true;
}

std::string JoinAddress(std::string_view host, int64_t port) {
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

struct Router::Request {
  std::vector<std::string> argv;  // a Call
  std::optional<Script> script;   // or a CallScript with these keys and args
  std::vector<std::string> keys;
  std::vector<std::string> args;
  std::string op;
  Callback done;
  uint16_t slot = 0;
  SteadyClock::time_point deadline;
  int redirects = 0;
  int retries = 0;
};

Router::Router(RouterOptions options, ClientObserver* observer, RouterObserver* router_observer)
    : options_(std::move(options)), observer_(observer), router_observer_(router_observer) {}

Router::~Router() { Stop(); }

bool Router::Start() {
  if (!loop_.Start()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const SeedAddress& seed : options_.seeds) NodeLocked(JoinAddress(seed.host, seed.port));
    if (nodes_.empty()) return false;
    for (const auto& node : nodes_) {
      if (!node->client) return false;  // the loop could not take it
    }
  }
  thread_ = std::thread([this] { Run(); });
  return true;
}

void Router::Stop() {
  std::vector<Retry> retries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    retries.swap(retries_);
  }
  // Shuts down every node's client (each one the router made is attached to the loop): their
  // outstanding calls complete with kStopped, later calls fail inline.
  loop_.Stop();
  for (Retry& retry : retries) retry.request->done(CallResult{CallError::kStopped, {}});
}

uint16_t Router::NodeLocked(const std::string& address) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->address == address) return static_cast<uint16_t>(i);
  }
  auto node = std::make_unique<Node>();
  node->address = address;
  ClientOptions client = options_.client;
  if (SplitAddress(address, &client.host, &client.port)) {
    node->client = std::make_unique<Client>(client, observer_, &loop_);
    if (!node->client->Start()) node->client.reset();
  }
  nodes_.push_back(std::move(node));
  return static_cast<uint16_t>(nodes_.size() - 1);
}

Client* Router::ClientOf(uint16_t node) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (node >= nodes_.size() || stopping_) return nullptr;
  return nodes_[node]->client.get();
}

void Router::Call(const std::vector<std::string>& argv, std::string_view op, Callback done) {
  auto request = std::make_shared<Request>();
  request->argv = argv;
  request->op = op;
  request->done = std::move(done);
  request->slot = argv.size() > 1 ? KeySlot(argv[1]) : 0;
  Route(std::move(request));
}

void Router::CallScript(const Script& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args, std::string_view op, Callback done) {
  auto request = std::make_shared<Request>();
  request->script = script;
  request->keys = keys;
  request->args = args;
  request->op = op;
  request->done = std::move(done);
  request->slot = keys.empty() ? 0 : KeySlot(keys.front());
  Route(std::move(request));
}

void Router::Route(std::shared_ptr<Request> request) {
  request->deadline = SteadyClock::now() + options_.client.call_timeout;
  const uint16_t node = NodeOfSlot(request->slot);  // before `request` is moved
  Dispatch(std::move(request), node, false);
}

uint16_t Router::NodeOfSlot(uint16_t slot) const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_ ? (*table_)[slot] : kNoNode;
}

std::vector<std::string> Router::Masters() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (uint16_t node : masters_) out.push_back(nodes_[node]->address);
  return out;
}

void Router::CallOn(const std::string& master, const std::vector<std::string>& argv,
                    std::string_view op, Callback done) {
  Client* client = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& node : nodes_) {
      if (node->address == master && !stopping_) client = node->client.get();
    }
  }
  if (client == nullptr) return done(CallResult{CallError::kUnavailable, {}});
  client->Call(argv, op, std::move(done));
}

bool Router::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!table_ || masters_.empty()) return false;
  for (uint16_t node : masters_) {
    const Client* client = nodes_[node]->client.get();
    if (client == nullptr || !client->connected()) return false;
  }
  return true;
}

size_t Router::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t total = 0;
  for (const auto& node : nodes_) {
    if (node->client) total += node->client->in_flight();
  }
  return total;
}

bool Router::cluster() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cluster_;
}

void Router::Dispatch(std::shared_ptr<Request> request, uint16_t node, bool asking) {
  Client* client = node == kNoNode ? nullptr : ClientOf(node);
  if (client == nullptr) {
    RequestRefresh();
    return request->done(CallResult{CallError::kUnavailable, {}});
  }
  Callback reply = [this, request](CallResult&& result) { OnReply(request, std::move(result)); };
  if (request->script) {
    client->CallScript(*request->script, request->keys, request->args, request->op,
                       std::move(reply), asking);
  } else {
    client->Call(request->argv, request->op, std::move(reply), asking);
  }
}

void Router::OnReply(std::shared_ptr<Request> request, CallResult&& result) {
  const SteadyClock::time_point now = SteadyClock::now();
  if (result.error == CallError::kNone && result.value.is_error()) {
    const std::string& error = result.value.str;
    const bool moved = StartsWith(error, "MOVED ");
    const bool ask = StartsWith(error, "ASK ");
    uint16_t slot = 0;
    std::string address;
    // A redirect means the command did not run: sending it where Redis says is safe.
    if ((moved || ask) && request->redirects < kMaxRedirects && now < request->deadline &&
        ParseRedirect(error, &slot, &address)) {
      uint16_t node = kNoNode;
      bool changed = false;
      bool stopping = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stopping_;
        if (!stopping) node = NodeLocked(address);
        if (!stopping && moved && table_ && (*table_)[slot] != node) {
          auto table = std::make_shared<SlotTable>(*table_);
          (*table)[slot] = node;
          table_ = std::move(table);
          if (std::find(masters_.begin(), masters_.end(), node) == masters_.end()) {
            masters_.push_back(node);
          }
          changed = true;
        }
      }
      // Completions never run under mu_: they may call back in here.
      if (stopping) return request->done(CallResult{CallError::kStopped, {}});
      if (router_observer_ != nullptr) {
        router_observer_->Redirected(ask);
        if (changed) router_observer_->MastersChanged();
      }
      if (moved) RequestRefresh();
      ++request->redirects;
      return Dispatch(std::move(request), node, ask);
    }
    // The cluster is between states (a resharding step, a failover): ask again shortly.
    if (StartsWith(error, "TRYAGAIN") || StartsWith(error, "CLUSTERDOWN")) {
      const auto backoff =
          std::chrono::milliseconds(std::min(25 << std::min(request->retries, 3), 200));
      if (now + backoff < request->deadline) {
        ++request->retries;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!stopping_) {
            retries_.push_back(Retry{now + backoff, std::move(request)});
            wake_.notify_all();
            return;
          }
        }
        return request->done(CallResult{CallError::kStopped, {}});
      }
      RequestRefresh();
    }
  }
  if (result.error == CallError::kIo || result.error == CallError::kUnavailable) RequestRefresh();
  request->done(std::move(result));
}

void Router::RequestRefresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (refresh_requested_ || stopping_) return;
    refresh_requested_ = true;
  }
  wake_.notify_all();
}

void Router::Run() {
  SteadyClock::time_point next_refresh = SteadyClock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    SteadyClock::time_point wake_at = next_refresh;
    for (const Retry& retry : retries_) wake_at = std::min(wake_at, retry.at);
    wake_.wait_until(lock, wake_at, [&] {
      if (stopping_ || refresh_requested_) return true;
      const auto now = SteadyClock::now();
      if (now >= next_refresh) return true;
      return std::any_of(retries_.begin(), retries_.end(),
                         [&](const Retry& r) { return r.at <= now; });
    });
    if (stopping_) break;
    const SteadyClock::time_point now = SteadyClock::now();
    std::vector<Retry> due;
    for (auto it = retries_.begin(); it != retries_.end();) {
      if (it->at <= now) {
        due.push_back(std::move(*it));
        it = retries_.erase(it);
      } else {
        ++it;
      }
    }
    const bool refresh = refresh_requested_ || now >= next_refresh;
    refresh_requested_ = false;
    lock.unlock();
    for (Retry& retry : due) {
      const uint16_t node = NodeOfSlot(retry.request->slot);
      Dispatch(std::move(retry.request), node, false);
    }
    if (refresh) {
      const bool known = Refresh();
      bool cluster = false;
      {
        std::lock_guard<std::mutex> flags_lock(mu_);
        cluster = cluster_;
      }
      // A single server's topology never changes; a cluster's is read again regularly.
      next_refresh = SteadyClock::now() + (!known    ? kDiscoveryInterval
                                           : cluster ? options_.refresh_interval
                                                     : std::chrono::hours(24));
    }
    lock.lock();
  }
}

bool Router::Refresh() {
  std::vector<std::pair<std::string, Client*>> candidates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The masters first (they know the newest table), then every other node.
    for (uint16_t node : masters_) {
      candidates.emplace_back(nodes_[node]->address, nodes_[node]->client.get());
    }
    for (const auto& node : nodes_) {
      if (std::none_of(candidates.begin(), candidates.end(),
                       [&](const auto& c) { return c.first == node->address; })) {
        candidates.emplace_back(node->address, node->client.get());
      }
    }
  }
  for (const auto& [address, client] : candidates) {
    if (client == nullptr || !client->connected()) continue;
    auto promise = std::make_shared<std::promise<CallResult>>();
    std::future<CallResult> answer = promise->get_future();
    client->Call({"CLUSTER", "SLOTS"}, "cluster_slots",
                 [promise](CallResult&& r) { promise->set_value(std::move(r)); });
    // The router thread's own wait (no request waits on it), bounded by the call's deadline.
    if (answer.wait_for(options_.client.call_timeout + std::chrono::milliseconds(100)) !=
        std::future_status::ready) {
      continue;
    }
    CallResult r = answer.get();
    if (r.error != CallError::kNone) continue;
    std::string host;
    uint16_t port = 0;
    SplitAddress(address, &host, &port);
    auto table = std::make_shared<SlotTable>();
    table->fill(kNoNode);
    std::vector<uint16_t> masters;
    bool cluster = true;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    if (r.value.is_error()) {
      // A single server: every slot is its own.
      if (r.value.str.find("cluster support disabled") == std::string::npos) continue;
      cluster = false;
      const uint16_t node = NodeLocked(address);
      table->fill(node);
      masters.push_back(node);
    } else if (r.value.type == Value::Type::kArray) {
      // [start, end, [host, port, id, ...] (master), [host, port, ...] (replicas)...] per range.
      for (const Value& range : r.value.elements) {
        if (range.type != Value::Type::kArray || range.elements.size() < 3) continue;
        const Value& master = range.elements[2];
        if (master.type != Value::Type::kArray || master.elements.size() < 2) continue;
        const int64_t start = range.elements[0].integer, end = range.elements[1].integer;
        if (start < 0 || end >= kSlotCount || start > end) continue;
        const std::string& master_host =
            master.elements[0].str.empty() ? host : master.elements[0].str;
        const uint16_t node = NodeLocked(JoinAddress(master_host, master.elements[1].integer));
        std::fill(table->begin() + start, table->begin() + end + 1, node);
        if (std::find(masters.begin(), masters.end(), node) == masters.end()) {
          masters.push_back(node);
        }
        // Replicas get a connection now, so a promoted one answers at once.
        for (size_t i = 3; i < range.elements.size(); ++i) {
          const Value& replica = range.elements[i];
          if (replica.type != Value::Type::kArray || replica.elements.size() < 2) continue;
          NodeLocked(JoinAddress(replica.elements[0].str.empty() ? host : replica.elements[0].str,
                                 replica.elements[1].integer));
        }
      }
    } else {
      continue;
    }
    const bool changed = table_ && *table_ != *table;
    table_ = std::move(table);
    masters_ = std::move(masters);
    cluster_ = cluster;
    if (router_observer_ != nullptr) {
      router_observer_->SlotsRefreshed();
      if (changed) router_observer_->MastersChanged();
    }
    return true;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return table_ != nullptr;
}

}  // namespace mfa::redis
