// SPDX-License-Identifier: Apache-2.0
#include "redis/client.h"

#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace mfa::redis {
namespace {

// Bytes read per loop turn at most, so timers are looked at even under a flood of replies.
constexpr size_t kMaxReadPerTurn = 1 << 20;
// A connection whose oldest call has waited this many call timeouts is dropped and remade.
constexpr int kStallFactor = 10;
// The longest poll() when nothing is due.
constexpr std::chrono::milliseconds kMaxPoll{60'000};
// An output buffer larger than this is released once written.
constexpr size_t kKeepOutputCapacity = 4 << 20;

constexpr std::string_view kPing = "*1\r\n$4\r\nPING\r\n";

void AppendCount(std::string* out, char kind, size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out->push_back(kind);
  out->append(digits, end);
  out->append("\r\n");
}

void AppendBulk(std::string* out, std::string_view arg) {
  AppendCount(out, '$', arg.size());
  out->append(arg);
  out->append("\r\n");
}

// ASKING, sent in the same write just before a command redirected by an ASK reply.
void AppendAsking(std::string* out) {
  AppendCount(out, '*', 1);
  AppendBulk(out, "ASKING");
}

size_t FormattedSize(const std::vector<std::string>& args) {
  size_t size = 0;
  for (const std::string& a : args) size += a.size() + 16;
  return size;
}

std::string Sha1Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    return {};  // EVALSHA "" answers NOSCRIPT, which the caller then sees
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

Value ToValue(const redisReply& reply) {
  Value v;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      v.type = Value::Type::kString;
      v.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = Value::Type::kStatus;
      v.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = Value::Type::kError;
      v.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = Value::Type::kInteger;
      v.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = Value::Type::kArray;
      v.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) v.elements.push_back(ToValue(*reply.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      v.type = Value::Type::kNil;
      break;
  }
  return v;
}

bool IsNoScript(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ERROR &&
         std::string_view(reply.str, reply.len).substr(0, 8) == "NOSCRIPT";
}

}  // namespace

std::string_view ToString(CallError error) {
  switch (error) {
    case CallError::kNone:
      return "none";
    case CallError::kUnavailable:
      return "unavailable";
    case CallError::kTimeout:
      return "timeout";
    case CallError::kIo:
      return "io";
    case CallError::kOverloaded:
      return "overloaded";
    case CallError::kStopped:
      return "stopped";
  }
  return "unknown";
}

Script::Script(std::string source) {
  auto data = std::make_shared<Data>();
  data->sha1 = Sha1Hex(source);
  data->source = std::move(source);
  data_ = std::move(data);
}

// ---- EventLoop ------------------------------------------------------------------------------

EventLoop::EventLoop() { wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

EventLoop::~EventLoop() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool EventLoop::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_ || wake_fd_ < 0) return false;
  started_ = running_ = true;
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error&) {
    running_ = false;
    return false;
  }
  return true;
}

void EventLoop::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_pending_.store(true, std::memory_order_release);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
  if (thread_.joinable()) thread_.join();
  // Clients attached to a loop that never ran: nothing else will stop them.
  std::vector<Client*> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(clients_);
  }
  for (Client* client : left) client->Shutdown(std::chrono::steady_clock::now());
}

bool EventLoop::Attach(Client* client) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || wake_fd_ < 0) return false;
    clients_.push_back(client);
  }
  Wake();
  return true;
}

void EventLoop::Detach(Client* client) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto attached = std::find(clients_.begin(), clients_.end(), client);
  if (attached == clients_.end()) {
    lock.unlock();
    client->Shutdown(std::chrono::steady_clock::now());  // idempotent
    return;
  }
  if (!running_) {
    clients_.erase(attached);
    lock.unlock();
    client->Shutdown(std::chrono::steady_clock::now());
    return;
  }
  detaching_.push_back(client);
  lock.unlock();
  wake_pending_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
  lock.lock();
  detached_.wait(
      lock, [&] { return std::find(clients_.begin(), clients_.end(), client) == clients_.end(); });
}

void EventLoop::Wake() {
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
}

void EventLoop::Run() {
  std::vector<Client*> active;
  std::vector<Client*> leaving;
  std::vector<pollfd> fds;
  std::vector<Client*> polled;  // fds[i + 1] is polled[i]'s
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    bool stop = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop = stopping_;
      if (stop) {
        leaving = clients_;
        detaching_.clear();
      } else {
        leaving.swap(detaching_);
      }
    }
    if (!leaving.empty()) {
      // Outside mu_: their callbacks may call other clients (which may Attach). Still in
      // clients_ meanwhile, so that Detach returns only once this is done.
      for (Client* client : leaving) client->Shutdown(now);
      std::lock_guard<std::mutex> lock(mu_);
      for (Client* client : leaving) std::erase(clients_, client);
      leaving.clear();
      detached_.notify_all();
    }
    if (stop) {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = false;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      active = clients_;
    }

    fds.clear();
    polled.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    int timeout_ms = static_cast<int>(kMaxPoll.count());
    for (Client* client : active) {
      const pollfd want = client->Prepare(now, &timeout_ms);
      if (want.fd < 0) continue;
      fds.push_back(want);
      polled.push_back(client);
    }
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready <= 0) continue;  // timeout, EINTR, or (rarely) ENOMEM: the next turn retries
    if (fds[0].revents != 0) {
      // Drained first, then cleared, both before the next turn takes the submitted calls: a
      // call that finds the flag set is taken by that turn; one that finds it clear writes the
      // eventfd again. (Cleared first, a Wake between the two would be drained and the flag left
      // set: no later call would wake the loop.)
      uint64_t value;
      ssize_t ignored = read(wake_fd_, &value, sizeof(value));
      (void)ignored;
      wake_pending_.store(false, std::memory_order_seq_cst);
    }
    const auto after = std::chrono::steady_clock::now();
    for (size_t i = 0; i < polled.size(); ++i) {
      if (fds[i + 1].revents != 0) polled[i]->OnReady(fds[i + 1].revents, after);
    }
  }
}

// ---- Client ---------------------------------------------------------------------------------

Client::Client(ClientOptions options, ClientObserver* observer, EventLoop* loop)
    : options_(std::move(options)),
      observer_(observer),
      own_loop_(loop == nullptr ? std::make_unique<EventLoop>() : nullptr),
      loop_(loop == nullptr ? own_loop_.get() : loop),
      backoff_(options_.reconnect_min) {}

Client::~Client() { Stop(); }

bool Client::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopping_) return false;
    started_ = true;
  }
  if (!loop_->Attach(this)) return false;
  return own_loop_ == nullptr || own_loop_->Start();
}

void Client::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  if (own_loop_ != nullptr) {
    own_loop_->Stop();  // shuts this client down (also when the loop never ran)
  } else {
    loop_->Detach(this);
  }
}

void Client::Call(const std::vector<std::string>& argv, std::string_view op, Callback done,
                  bool asking) {
  if (argv.empty()) {  // "*0" gets no reply from Redis: it would break the FIFO's order
    Value error;
    error.type = Value::Type::kError;
    error.str = "ERR empty command";
    if (observer_ != nullptr) observer_->CallFinished(op, CallError::kNone, {});
    done(CallResult{CallError::kNone, std::move(error)});
    return;
  }
  std::string command;
  command.reserve(32 + FormattedSize(argv));
  if (asking) AppendAsking(&command);
  AppendCount(&command, '*', argv.size());
  for (const std::string& a : argv) AppendBulk(&command, a);
  Submit(Kind::kCall, std::move(command), op, std::move(done), nullptr, asking);
}

void Client::CallScript(const Script& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args, std::string_view op, Callback done,
                        bool asking) {
  std::string command;
  command.reserve(112 + FormattedSize(keys) + FormattedSize(args));
  if (asking) AppendAsking(&command);
  AppendCount(&command, '*', 3 + keys.size() + args.size());
  AppendBulk(&command, "EVALSHA");
  AppendBulk(&command, script.sha1());
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), keys.size());
  AppendBulk(&command, std::string_view(digits, static_cast<size_t>(end - digits)));
  for (const std::string& k : keys) AppendBulk(&command, k);
  for (const std::string& a : args) AppendBulk(&command, a);
  Submit(Kind::kScript, std::move(command), op, std::move(done), script.data_, asking);
}

void Client::Submit(Kind kind, std::string command, std::string_view op, Callback done,
                    std::shared_ptr<const Script::Data> script, bool asking) {
  const SteadyClock::time_point start = SteadyClock::now();
  CallError refused = CallError::kNone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      refused = CallError::kStopped;
    } else if (!link_up_.load(std::memory_order_acquire)) {
      refused = CallError::kUnavailable;
    } else if (in_flight_.load(std::memory_order_relaxed) >= options_.max_in_flight) {
      refused = CallError::kOverloaded;
    } else {
      in_flight_.fetch_add(1, std::memory_order_relaxed);
      Entry& e = incoming_.emplace_back();
      e.kind = kind;
      e.counted = true;
      e.command = std::move(command);
      e.op = op;
      e.done = std::move(done);
      e.start = start;
      e.deadline = start + options_.call_timeout;
      e.script = std::move(script);
      e.asking = asking;
    }
  }
  if (refused != CallError::kNone) {
    FailInline(op, start, refused, done);
    return;
  }
  loop_->Wake();
}

void Client::FailInline(std::string_view op, SteadyClock::time_point start, CallError error,
                        Callback& done) {
  if (observer_ != nullptr) observer_->CallFinished(op, error, SteadyClock::now() - start);
  if (done) done(CallResult{error, Value{}});
}

// ---- the I/O thread -------------------------------------------------------------------------

void Client::Shutdown(SteadyClock::time_point now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = stopping_ = true;  // from here on calls fail inline
    batch_.swap(incoming_);
  }
  FailAll(batch_, CallError::kStopped, now);
  Disconnect(now, CallError::kStopped, CallError::kStopped);
}

pollfd Client::Prepare(SteadyClock::time_point now, int* timeout_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch_.swap(incoming_);
  }
  Admit(batch_, now);

  if (state_ == LinkState::kDown && now >= reconnect_at_) {
    StartConnect(now);
  } else if (state_ == LinkState::kConnecting && now >= connect_deadline_) {
    Disconnect(now);
  }
  if (state_ == LinkState::kUp) {
    ExpireDeadlines(now);
    if (!fifo_.empty() && now - fifo_.front().start >= kStallFactor * options_.call_timeout) {
      Disconnect(now);
    } else if (fifo_.empty() && options_.health_interval.count() > 0 &&
               now - last_reply_ >= options_.health_interval) {
      EnqueuePing(now);
    }
  }
  if (state_ == LinkState::kUp && out_pos_ < out_.size() && !Flush()) {
    Disconnect(SteadyClock::now());
  }

  *timeout_ms = std::min(*timeout_ms, PollTimeoutMs(SteadyClock::now()));
  pollfd want{-1, 0, 0};
  if (state_ == LinkState::kConnecting) {
    want = {fd_, POLLOUT, 0};
  } else if (state_ == LinkState::kUp) {
    want = {fd_, static_cast<short>(POLLIN | (out_pos_ < out_.size() ? POLLOUT : 0)), 0};
  }
  return want;
}

void Client::OnReady(short revents, SteadyClock::time_point now) {
  if (state_ == LinkState::kConnecting) {
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
      OnConnected(now);
    } else {
      Disconnect(now);
    }
    return;
  }
  if (state_ != LinkState::kUp) return;
  if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0 && !ReadReplies(now)) {
    Disconnect(SteadyClock::now());
    return;
  }
  if ((revents & POLLOUT) != 0 && !Flush()) {
    Disconnect(SteadyClock::now());
  }
}

void Client::Admit(std::vector<Entry>& batch, SteadyClock::time_point now) {
  if (state_ != LinkState::kUp) {
    // Queued just before the connection broke: they were never sent.
    FailAll(batch, CallError::kUnavailable, now);
  } else {
    for (Entry& e : batch) Enqueue(std::move(e));
  }
  batch.clear();
}

uint64_t Client::Enqueue(Entry entry) {
  out_.append(entry.command);
  bytes_queued_ += entry.command.size();
  entry.end_offset = bytes_queued_;
  entry.asking_reply_owed = entry.asking;  // every sending carries its ASKING
  if (entry.kind != Kind::kScript) std::string().swap(entry.command);
  entry.seq = front_seq_ + fifo_.size();
  fifo_.push_back(std::move(entry));
  return fifo_.back().seq;
}

void Client::EnqueuePing(SteadyClock::time_point now) {
  Entry ping;
  ping.kind = Kind::kPing;
  ping.command = kPing;
  ping.start = now;
  ping.deadline = now + options_.call_timeout;
  Enqueue(std::move(ping));
}

void Client::StartConnect(SteadyClock::time_point now) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    Disconnect(now);
    return;
  }
  const addrinfo* chosen = found;  // IPv4 first: redis-server is usually bound to 127.0.0.1
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      chosen = a;
      break;
    }
  }
  int fd = socket(chosen->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int result = -1;
  int connect_errno = 0;
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    result = connect(fd, chosen->ai_addr, chosen->ai_addrlen);
    connect_errno = errno;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    Disconnect(now);
    return;
  }
  fd_ = fd;
  if (result == 0) {
    OnConnected(now);
  } else if (connect_errno == EINPROGRESS) {
    state_ = LinkState::kConnecting;
    connect_deadline_ = now + options_.call_timeout;
  } else {
    Disconnect(now);
  }
}

void Client::OnConnected(SteadyClock::time_point now) {
  reader_ = redisReaderCreate();
  if (reader_ == nullptr) {
    Disconnect(now);
    return;
  }
  state_ = LinkState::kUp;
  answered_ = false;
  last_reply_ = now;
  // The handshake: connected() turns true on its answer (a stopped server's kernel accepts the
  // connection, so the connect alone proves nothing).
  EnqueuePing(now);
  link_up_.store(true, std::memory_order_release);
}

void Client::Disconnect(SteadyClock::time_point now, CallError sent_error, CallError unsent_error) {
  link_up_.store(false, std::memory_order_release);
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (reader_ != nullptr) redisReaderFree(reader_);
  reader_ = nullptr;
  state_ = LinkState::kDown;
  SetHealthy(false);
  std::deque<Entry> carried;
  carried.swap(fifo_);
  front_seq_ += carried.size();
  expire_seq_ = front_seq_;
  retry_seqs_.clear();
  loading_.clear();
  const uint64_t written = bytes_written_;
  out_.clear();
  if (out_.capacity() > kKeepOutputCapacity) std::string().swap(out_);
  out_pos_ = 0;
  bytes_queued_ = bytes_written_ = 0;
  reconnect_at_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  // A command partly written did not run: Redis runs only whole commands.
  for (Entry& e : carried) {
    Finish(e, e.end_offset <= written ? sent_error : unsent_error, Value{}, now);
  }
}

bool Client::Flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n = send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n > 0) {
      out_pos_ += static_cast<size_t>(n);
      bytes_written_ += static_cast<uint64_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return false;
    }
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    if (out_.capacity() > kKeepOutputCapacity) std::string().swap(out_);
    out_pos_ = 0;
  } else if (out_pos_ >= kKeepOutputCapacity / 4) {
    out_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  return true;
}

bool Client::ReadReplies(SteadyClock::time_point now) {
  char buf[64 * 1024];
  size_t total = 0;
  while (total < kMaxReadPerTurn) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n == 0) return false;  // Redis closed the connection
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    total += static_cast<size_t>(n);
    if (redisReaderFeed(reader_, buf, static_cast<size_t>(n)) != REDIS_OK) return false;
    while (true) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader_, &reply) != REDIS_OK) return false;  // protocol error
      if (reply == nullptr) break;
      if (!OnReply(reply, now)) return false;
    }
    if (static_cast<size_t>(n) < sizeof(buf)) break;  // drained for now; poll says when more
    now = SteadyClock::now();
  }
  return true;
}

bool Client::OnReply(void* raw, SteadyClock::time_point now) {
  std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                     freeReplyObject);
  if (fifo_.empty()) return false;  // a reply nobody asked for: the stream is out of step
  if (fifo_.front().asking_reply_owed) {
    // The +OK of the ASKING sent in front of this command; its own reply comes next.
    fifo_.front().asking_reply_owed = false;
    return true;
  }
  Entry e = std::move(fifo_.front());
  fifo_.pop_front();
  ++front_seq_;
  last_reply_ = now;
  if (!answered_) {
    answered_ = true;
    backoff_ = options_.reconnect_min;
    if (ever_answered_ && observer_ != nullptr) observer_->Reconnected();
    ever_answered_ = true;
  }
  SetHealthy(true);
  switch (e.kind) {
    case Kind::kPing:
      break;
    case Kind::kScriptLoad:
      loading_.erase(e.script->sha1);
      break;
    case Kind::kScript:
      if (!e.completed && !e.retried && IsNoScript(*reply)) {
        // One SCRIPT LOAD per script until it is answered: later NOSCRIPTs of the same script
        // are already behind it in the pipeline.
        if (loading_.insert(e.script->sha1).second) {
          Entry load;
          load.kind = Kind::kScriptLoad;
          AppendCount(&load.command, '*', 3);
          AppendBulk(&load.command, "SCRIPT");
          AppendBulk(&load.command, "LOAD");
          AppendBulk(&load.command, e.script->source);
          load.start = now;
          load.deadline = e.deadline;
          load.script = e.script;
          Enqueue(std::move(load));
        }
        e.retried = true;
        retry_seqs_.push_back(Enqueue(std::move(e)));  // keeps its slot and deadline
        return true;
      }
      [[fallthrough]];
    case Kind::kCall:
      if (!e.completed) {
        Finish(e, CallError::kNone, ToValue(*reply), now);
        return true;
      }
      break;
  }
  Release(e);
  return true;
}

void Client::ExpireDeadlines(SteadyClock::time_point now) {
  size_t i = std::max(expire_seq_, front_seq_) - front_seq_;
  for (; i < fifo_.size() && fifo_[i].deadline <= now; ++i) TimeOut(fifo_[i], now);
  expire_seq_ = front_seq_ + i;
  std::erase_if(retry_seqs_, [&](uint64_t seq) {
    if (seq < front_seq_) return true;  // answered
    Entry& e = fifo_[seq - front_seq_];
    if (e.deadline > now) return e.completed;
    TimeOut(e, now);
    return true;
  });
}

void Client::TimeOut(Entry& e, SteadyClock::time_point now) {
  if (e.completed) return;
  if (e.kind == Kind::kScriptLoad) {
    e.completed = true;
    return;
  }
  SetHealthy(false);
  if (e.kind == Kind::kPing) {
    e.completed = true;
    return;
  }
  Complete(e, CallError::kTimeout, Value{}, now);  // the slot stays until the reply comes
}

void Client::Finish(Entry& e, CallError error, Value value, SteadyClock::time_point now) {
  Release(e);  // first, so that the callback may use the slot for its next call
  Complete(e, error, std::move(value), now);
}

void Client::Complete(Entry& e, CallError error, Value value, SteadyClock::time_point now) {
  if (e.completed) return;
  e.completed = true;
  if (e.kind != Kind::kCall && e.kind != Kind::kScript) return;
  Callback done = std::move(e.done);
  if (observer_ != nullptr) observer_->CallFinished(e.op, error, now - e.start);
  if (done) done(CallResult{error, std::move(value)});
}

void Client::Release(Entry& e) {
  if (!e.counted) return;
  e.counted = false;
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
}

void Client::FailAll(std::vector<Entry>& entries, CallError error, SteadyClock::time_point now) {
  for (Entry& e : entries) Finish(e, error, Value{}, now);
  entries.clear();
}

void Client::SetHealthy(bool healthy) {
  healthy_ = healthy;
  const bool up = healthy && state_ == LinkState::kUp;
  if (connected_.exchange(up, std::memory_order_acq_rel) != up && observer_ != nullptr) {
    observer_->ConnectionChanged(up);
  }
}

int Client::PollTimeoutMs(SteadyClock::time_point now) const {
  SteadyClock::time_point next = now + kMaxPoll;
  switch (state_) {
    case LinkState::kDown:
      next = std::min(next, reconnect_at_);
      break;
    case LinkState::kConnecting:
      next = std::min(next, connect_deadline_);
      break;
    case LinkState::kUp: {
      const size_t i = std::max(expire_seq_, front_seq_) - front_seq_;
      if (i < fifo_.size()) next = std::min(next, fifo_[i].deadline);
      for (uint64_t seq : retry_seqs_) {
        if (seq >= front_seq_) next = std::min(next, fifo_[seq - front_seq_].deadline);
      }
      if (!fifo_.empty()) {
        next = std::min(next, fifo_.front().start + kStallFactor * options_.call_timeout);
      } else if (options_.health_interval.count() > 0) {
        next = std::min(next, last_reply_ + options_.health_interval);
      }
      break;
    }
  }
  if (next <= now) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
}

}  // namespace mfa::redis
