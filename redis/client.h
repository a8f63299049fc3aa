// SPDX-License-Identifier: Apache-2.0
// A pipelining Redis client driven by an I/O thread (hiredis 0.14's reply parser over our own
// non-blocking socket). Callers on any thread hand it commands and a callback; the I/O thread
// writes everything queued in one write per loop turn, matches the replies in order and runs
// the callbacks. No call ever waits on the network: while Redis is down calls fail at once, while
// it is stalled they time out. Several clients (a cluster's masters) may share one I/O thread, an
// EventLoop: one wake-up and one poll serve every connection of a turn.
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

struct redisReader;  // hiredis; only client.cc includes it

namespace mfa::redis {

// An owned copy of a RESP2 reply.
struct Value {
  enum class Type : uint8_t { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;          // kInteger
  std::string str;              // kString, kStatus, kError (the whole message, e.g. "ERR ...")
  std::vector<Value> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
};

// Why a call has no reply. A Redis error reply is not a CallError: it is a Value of type kError.
enum class CallError : uint8_t {
  kNone,
  kUnavailable,  // not connected: the command was not sent (did not run)
  kTimeout,      // no reply within the call's deadline: it may have run
  kIo,           // the connection broke after the command was sent: it may have run
  kOverloaded,   // max_in_flight calls already queued or owed a reply: not sent
  kStopped,      // the client stopped before the reply came: it may have run if it was sent
};
std::string_view ToString(CallError error);  // "none", "unavailable", "timeout", ...

struct CallResult {
  CallError error = CallError::kNone;
  Value value;  // meaningful when error == kNone
};
using Callback = std::function<void(CallResult&&)>;

struct ClientOptions {
  std::string host = "127.0.0.1";  // a name is resolved on the I/O thread at each connect
  uint16_t port = 6379;
  // Each call's deadline, from Call(). Also bounds a connect and a health PING.
  std::chrono::milliseconds call_timeout{1000};
  // Calls queued or awaiting a reply, including timed-out ones still owed a reply. Beyond it a
  // call fails with kOverloaded.
  size_t max_in_flight = 10000;
  // Delay before reconnecting: starts at reconnect_min, doubles per failed attempt up to
  // reconnect_max, back to reconnect_min once a connection answers.
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{1000};
  // A PING is sent when nothing was answered for this long and nothing is outstanding, so an
  // outage is noticed while idle.
  std::chrono::milliseconds health_interval{250};
};

// Observes a client for metrics. Implementations must be thread-safe: CallFinished runs on the
// thread that runs the call's callback (the I/O thread, or the caller's thread for a call refused
// before it was queued); Reconnected and ConnectionChanged run on the I/O thread. Must not block
// or call back into the client's Stop().
class ClientObserver {
 public:
  virtual ~ClientObserver() = default;
  // Every call, once, just before its callback; `latency` is from Call() to completion.
  virtual void CallFinished(std::string_view op, CallError error,
                            std::chrono::nanoseconds latency) = 0;
  // A connection answered after an earlier connection was lost.
  virtual void Reconnected() = 0;
  // connected() changed.
  virtual void ConnectionChanged(bool up) = 0;
};

// A Lua script identified by the SHA-1 of its exact bytes (computed here, as Redis does: no
// trimming). Cheap to copy (shares the immutable source); thread-safe.
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return data_->source; }
  const std::string& sha1() const { return data_->sha1; }  // 40 lowercase hex digits

 private:
  friend class Client;
  struct Data {
    std::string source;
    std::string sha1;
  };
  std::shared_ptr<const Data> data_;  // shared with calls in flight (SCRIPT LOAD needs it)
};

class Client;

// One I/O thread serving any number of Clients: each turn it takes what every client was handed,
// writes it, and polls all their sockets and one eventfd together. A Router runs one for all the
// masters of a node, so a burst of calls to three masters costs one wake-up, not three.
//
// Thread-safety: Start, Stop and the clients' calls may come from any thread (Stop not from the
// loop's own thread: it joins it). mu_ guards the attached clients, the clients asking to detach
// and the run flags; the clients' connection state is touched only by the loop thread (or, once
// the loop has ended or before it started, by the thread stopping a client).
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();  // Stop()
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the thread. False if the eventfd or the thread cannot be made; call at most once.
  bool Start();
  // Stops every attached client (their calls complete with kStopped, on the loop thread) and
  // joins the thread. Idempotent; a client attached afterwards fails Start.
  void Stop();

 private:
  friend class Client;
  // A client's Start: false once the loop is stopping (or could not make its eventfd).
  bool Attach(Client* client);
  // A client's Stop: the loop shuts it down and forgets it; returns once that is done. Runs the
  // shutdown on this thread when the loop is not running (never started, or ended).
  void Detach(Client* client);
  // Wakes the loop for new calls; one eventfd write per turn however many calls come.
  void Wake();
  void Run();

  int wake_fd_ = -1;
  std::atomic<bool> wake_pending_{false};
  std::thread thread_;  // joined under stop_mu_
  std::mutex stop_mu_;  // serializes Stop() (the join)
  std::mutex mu_;
  std::condition_variable detached_;
  std::vector<Client*> clients_;    // GUARDED_BY(mu_)
  std::vector<Client*> detaching_;  // GUARDED_BY(mu_): asked to detach, not yet shut down
  bool started_ = false;            // GUARDED_BY(mu_)
  bool running_ = false;            // GUARDED_BY(mu_): the thread serves the clients
  bool stopping_ = false;           // GUARDED_BY(mu_)
};

// One connection to one Redis server, served by an EventLoop: its own (the default) or one shared
// with other clients.
//
// Calls are formatted (RESP) on the caller's thread and queued; the I/O thread appends what is
// queued to the connection's output buffer, writes it (pipelining), polls the socket and an
// eventfd with a timeout at the next deadline, health check or reconnect, and matches replies to
// calls in FIFO order.
//
// Failures: a call whose deadline passes completes with kTimeout at once, but its place in the
// FIFO stays (its reply, if it ever comes, is discarded) and it counts toward max_in_flight. If
// the oldest call has had no reply for 10 × call_timeout, the connection is dropped and remade
// (a stalled Redis would otherwise hold the in-flight slots forever; anything still owed then
// completes with kIo if it had not timed out). When a connection breaks, calls sent complete with
// kIo, calls not yet (fully) sent with kUnavailable; the client reconnects with backoff. While
// there is no connection, Call fails at once with kUnavailable.
//
// Thread-safety: Call, CallScript, connected, in_flight and Stop may be called from any thread
// (Stop not from a callback: it waits for the I/O thread). Callbacks run on the I/O thread and
// must not block or throw; they may call Call/CallScript (of any client). mu_ guards the
// submission queue and the stopping flag; everything else the I/O thread owns alone, except the
// atomics.
class Client {
 public:
  // `observer` (may be null) must outlive the client. `loop` (may be null: the client then runs
  // its own) must outlive the client and be started by its owner.
  explicit Client(ClientOptions options, ClientObserver* observer = nullptr,
                  EventLoop* loop = nullptr);
  ~Client();  // Stop()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Joins its loop (starting its own I/O thread, if it has one), which connects in the
  // background (Redis may be down: it keeps retrying). False if the loop cannot serve it (no
  // eventfd, no thread, or already stopped). Call at most once.
  bool Start();
  // Closes the connection; every call not yet completed completes with kStopped (on the I/O
  // thread, or on this thread if the loop is not running). Returns when that is done; its own
  // loop is joined. Idempotent. Calls made after Stop fail with kStopped.
  void Stop();

  // Sends `argv` (a command and its arguments, binary-safe). Never blocks on the network and
  // never throws (except std::bad_alloc). An empty `argv` answers an "ERR empty command" error
  // Value inline. `done` runs exactly once: on the I/O thread with the reply or a later failure
  // (kTimeout, kIo, kUnavailable, kStopped), or inline on this thread, before Call returns, with
  // kStopped (after Stop), kUnavailable (no connection: from a break until the next connect) or
  // kOverloaded (max_in_flight reached). A connection that is up but not answering (connected()
  // false after a timeout) still queues calls: they time out.
  // `op` names the call for the observer (a metric label).
  // `asking`: ASKING is sent just before the command, on the same connection (Redis Cluster's
  // ASK redirect); its reply is consumed here.
  void Call(const std::vector<std::string>& argv, std::string_view op, Callback done,
            bool asking = false);
  // EVALSHA script.sha1() with `keys` and `args`, as Call. On a NOSCRIPT error reply the I/O
  // thread sends SCRIPT LOAD and the EVALSHA again, once, within the same deadline (safe:
  // NOSCRIPT means it did not run); the retry keeps the call's in-flight slot.
  void CallScript(const Script& script, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args, std::string_view op, Callback done,
                  bool asking = false);

  // The connection is up and the last health PING or call was answered in time: false from the
  // moment a call or PING times out until a reply arrives again, and while disconnected.
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  // Calls queued or owed a reply (see max_in_flight).
  size_t in_flight() const { return in_flight_.load(std::memory_order_acquire); }
  const ClientOptions& options() const { return options_; }

 private:
  friend class EventLoop;  // runs Prepare, OnReady and Shutdown on its thread
  using SteadyClock = std::chrono::steady_clock;
  enum class Kind : uint8_t {
    kCall,        // a caller's command
    kScript,      // a caller's EVALSHA (retried once on NOSCRIPT)
    kPing,        // internal: handshake and health check
    kScriptLoad,  // internal: SCRIPT LOAD before a retried EVALSHA
  };
  // A command from submission to its reply (or failure).
  struct Entry {
    Kind kind = Kind::kCall;
    bool counted = false;            // holds one of in_flight_'s slots (callers' calls)
    bool completed = false;          // `done` ran (e.g. timed out); a reply is still owed if sent
    bool retried = false;            // a kScript already re-sent after NOSCRIPT
    bool asking = false;             // `command` starts with ASKING (an ASK redirect)
    bool asking_reply_owed = false;  // sent, and the ASKING's +OK not read yet
    std::string command;             // RESP bytes; kept after sending only for kScript (the retry)
    std::string op;
    Callback done;
    SteadyClock::time_point start;
    SteadyClock::time_point deadline;
    std::shared_ptr<const Script::Data> script;  // kScript, kScriptLoad
    uint64_t seq = 0;                            // position in the connection's FIFO
    uint64_t end_offset = 0;  // output stream offset just past this command's bytes
  };
  enum class LinkState : uint8_t { kDown, kConnecting, kUp };

  // Caller side.
  void Submit(Kind kind, std::string command, std::string_view op, Callback done,
              std::shared_ptr<const Script::Data> script, bool asking);
  void FailInline(std::string_view op, SteadyClock::time_point start, CallError error,
                  Callback& done);

  // I/O thread (EventLoop::Run).
  // The turn's work before polling: takes the submitted calls, connects, expires deadlines,
  // writes. Returns the descriptor and events to poll (fd -1: none) and lowers *timeout_ms to
  // when this client next has something due.
  pollfd Prepare(SteadyClock::time_point now, int* timeout_ms);
  // What poll reported for Prepare's descriptor.
  void OnReady(short revents, SteadyClock::time_point now);
  // Fails what is submitted and outstanding with kStopped and closes the connection; calls made
  // afterwards fail inline. Idempotent.
  void Shutdown(SteadyClock::time_point now);
  void Admit(std::vector<Entry>& batch, SteadyClock::time_point now);
  uint64_t Enqueue(Entry entry);  // appends to the output buffer and the FIFO; returns its seq
  void EnqueuePing(SteadyClock::time_point now);  // handshake and health check
  void StartConnect(SteadyClock::time_point now);
  void OnConnected(SteadyClock::time_point now);
  // Closes the connection (if any) and schedules the next connect; completes what it carried:
  // calls fully sent with `sent_error`, others with `unsent_error`.
  void Disconnect(SteadyClock::time_point now, CallError sent_error = CallError::kIo,
                  CallError unsent_error = CallError::kUnavailable);
  bool Flush();                                   // false: the connection broke
  bool ReadReplies(SteadyClock::time_point now);  // false: the connection broke or lied
  bool OnReply(void* reply, SteadyClock::time_point now);
  void ExpireDeadlines(SteadyClock::time_point now);
  void TimeOut(Entry& entry, SteadyClock::time_point now);
  // Release, then Complete: the call is over and holds no slot.
  void Finish(Entry& entry, CallError error, Value value, SteadyClock::time_point now);
  // Runs the callback (and the observer) unless it ran already; keeps the slot.
  void Complete(Entry& entry, CallError error, Value value, SteadyClock::time_point now);
  void Release(Entry& entry);  // gives back the in-flight slot, if it holds one
  void SetHealthy(bool healthy);
  int PollTimeoutMs(SteadyClock::time_point now) const;
  void FailAll(std::vector<Entry>& entries, CallError error, SteadyClock::time_point now);

  const ClientOptions options_;
  ClientObserver* const observer_;
  std::unique_ptr<EventLoop> own_loop_;  // when no loop was given
  EventLoop* const loop_;

  mutable std::mutex mu_;
  std::vector<Entry> incoming_;  // GUARDED_BY(mu_): submitted, not yet taken by the I/O thread
  bool stopping_ = false;        // GUARDED_BY(mu_)
  bool started_ = false;         // GUARDED_BY(mu_)
  bool shut_down_ = false;       // GUARDED_BY(mu_): Shutdown ran
  std::vector<Entry> batch_;     // I/O thread: the turn's calls, taken from incoming_

  std::atomic<size_t> in_flight_{0};  // incremented under mu_ (the cap check), decremented freely
  std::atomic<bool> link_up_{false};  // written by the I/O thread: Call may queue
  std::atomic<bool> connected_{false};

  // Owned by the I/O thread.
  LinkState state_ = LinkState::kDown;
  int fd_ = -1;
  redisReader* reader_ = nullptr;
  std::string out_;  // bytes to write; out_pos_ of them already written
  size_t out_pos_ = 0;
  uint64_t bytes_queued_ = 0;   // output stream offset of out_'s end (per connection)
  uint64_t bytes_written_ = 0;  // per connection
  std::deque<Entry> fifo_;      // sent or being sent, in order; front_seq_ is the front's seq
  uint64_t front_seq_ = 0;
  uint64_t expire_seq_ = 0;           // entries before it have passed their deadline
  std::vector<uint64_t> retry_seqs_;  // re-sent EVALSHAs: their deadlines are out of FIFO order
  std::unordered_set<std::string> loading_;  // SHAs with a SCRIPT LOAD sent, not yet answered
  bool healthy_ = false;
  bool answered_ = false;       // this connection has answered at least once
  bool ever_answered_ = false;  // some earlier connection answered
  SteadyClock::time_point last_reply_;
  SteadyClock::time_point reconnect_at_;
  SteadyClock::time_point connect_deadline_;
  std::chrono::milliseconds backoff_;
};

}  // namespace mfa::redis
