// SPDX-License-Identifier: Apache-2.0
#include "http/dispatcher.h"

#include "core/clock.h"
#include "http/access_log.h"
#include "http/etag.h"
#include "http/faults.h"
#include "http/log.h"
#include "http/request_journal.h"
#include "http/timer_queue.h"
#include "i18n/language.h"

namespace mfa {

using SteadyClock = std::chrono::steady_clock;

namespace internal {

// What Finish needs of one request. The views point into the transport's buffers until Own().
struct Exchange {
  SteadyClock::time_point start;
  SteadyClock::time_point send_at;  // an injected delay holds the answer until then
  Method method = Method::kGet;
  std::string_view path;
  std::string_view body;
  const Route* route = nullptr;
  metrics::RouteId metric_route = 0;
  bool close_requested = false;
  bool preflight = false;
  std::vector<ReplyHeader> cors_headers;
  DeviationSet deviations;  // the handler's and the CORS decision's
  std::string session;      // the journal's session cookie, when there is a journal
  // What picks the language of a Logto error (public listener only; read only for one).
  std::string_view accept_language;
  std::vector<std::string_view> locale_params;  // `locale` query values as sent; rarely any
  bool etag = false;               // a GET under /api on the public listener: Logto tags it
  std::string_view if_none_match;  // with etag only
  std::string_view cache_control;
  std::string owned_path;
  std::string owned_body;
  std::string owned_accept_language;
  std::vector<std::string> owned_locale_params;
  std::string owned_if_none_match;
  std::string owned_cache_control;

  // Copies what the views point at, for an answer that outlives the transport's call.
  void Own(bool keep_body) {
    owned_path.assign(path);
    path = owned_path;
    if (keep_body) owned_body.assign(body);
    body = owned_body;
    owned_accept_language.assign(accept_language);
    accept_language = owned_accept_language;
    owned_locale_params.assign(locale_params.begin(), locale_params.end());
    for (size_t i = 0; i < locale_params.size(); ++i) locale_params[i] = owned_locale_params[i];
    owned_if_none_match.assign(if_none_match);
    if_none_match = owned_if_none_match;
    owned_cache_control.assign(cache_control);
    cache_control = owned_cache_control;
  }
};

// The language of the request (i18n/language.h): the decoded `locale` query values, then
// Accept-Language. Runs only for an error answer in Logto's words.
i18n::LocaleId RequestLocale(const Exchange& exchange) {
  std::vector<std::string> query_locales;
  for (std::string_view raw : exchange.locale_params) {
    std::string plus_as_space(raw);  // Node's querystring reads '+' as a space
    for (char& c : plus_as_space) c = c == '+' ? ' ' : c;
    query_locales.push_back(PercentDecode(plus_as_space));
  }
  return i18n::NegotiateLocale(query_locales, exchange.accept_language);
}

// An exchange whose answer is sent after Dispatch returned: held back by an injected delay, or
// completed by the handler through a PendingAnswer. Thread-safe: `decided_` makes the first
// completion win (the handler's answer or the deadline).
class PendingExchange final : public PendingAnswer::Target,
                              public std::enable_shared_from_this<PendingExchange> {
 public:
  PendingExchange(const Dispatcher& dispatcher, const Exchange& exchange,
                  std::unique_ptr<ReplySink> sink, DeviationSet noted = {})
      : dispatcher_(dispatcher), exchange_(exchange), sink_(std::move(sink)) {
    exchange_.Own(dispatcher_.config_.journal != nullptr);
    exchange_.deviations |= noted;
  }
  ~PendingExchange() override {
    // Never sent: dropped by a stopped timer queue at shutdown. The connection goes with it.
    if (!finished_) dispatcher_.config_.lifecycle->Leave();
  }

  void Complete(Reply reply) override {
    if (decided_.exchange(true, std::memory_order_acq_rel)) return;
    if (const TimerQueue::Id deadline = deadline_.load(std::memory_order_acquire); deadline != 0) {
      dispatcher_.config_.timers->Cancel(deadline);
    }
    if (exchange_.send_at > SteadyClock::now()) {
      auto self = shared_from_this();
      dispatcher_.config_.timers->Schedule(
          exchange_.send_at, [self, reply = std::move(reply)]() mutable { self->Send(reply); });
      return;
    }
    Send(reply);
  }

  bool decided() const override { return decided_.load(std::memory_order_acquire); }

  // REQUIRES: called once, before the handle is handed out.
  void ArmDeadline() {
    std::weak_ptr<PendingExchange> weak = shared_from_this();
    const TimerQueue::Id id = dispatcher_.config_.timers->Schedule(
        exchange_.start + dispatcher_.config_.answer_deadline, [weak] {
          if (auto self = weak.lock()) {
            LogWarn("{} {}: no answer within the deadline", MethodName(self->exchange_.method),
                    self->exchange_.path);
            Reply reply;
            SetError(reply, ApiError::kDeadlineExceeded);
            self->Complete(std::move(reply));
          }
        });
    deadline_.store(id, std::memory_order_release);
  }

 private:
  void Send(Reply& reply) {
    finished_ = true;
    dispatcher_.Finish(exchange_, reply, sink_.get());
  }

  const Dispatcher& dispatcher_;
  Exchange exchange_;
  std::unique_ptr<ReplySink> sink_;
  std::atomic<bool> decided_{false};
  std::atomic<TimerQueue::Id> deadline_{0};  // 0 until armed; the deadline may fire first
  bool finished_ = false;                    // written by the one thread that sends
};

// Lives on Dispatch's stack while the handler runs; HttpRequest::Defer() goes through it.
class Deferral {
 public:
  Deferral(const Dispatcher& dispatcher, const Exchange& exchange, ReplySink& sink)
      : dispatcher_(dispatcher), exchange_(exchange), sink_(sink) {}

  PendingAnswer Defer(DeviationSet noted) {
    if (pending_) {
      LogError("a handler deferred its answer twice");
      return PendingAnswer();
    }
    pending_ = std::make_shared<PendingExchange>(dispatcher_, exchange_, sink_.Detach(), noted);
    pending_->ArmDeadline();
    return PendingAnswer(pending_);
  }
  bool deferred() const { return pending_ != nullptr; }

 private:
  const Dispatcher& dispatcher_;
  const Exchange& exchange_;
  ReplySink& sink_;
  std::shared_ptr<PendingExchange> pending_;
};

}  // namespace internal

PendingAnswer HttpRequest::Defer() const {
  if (deferral == nullptr) {
    LogError("HttpRequest::Defer called outside a handler");
    return PendingAnswer();
  }
  return deferral->Defer(deviations);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

Dispatcher::Dispatcher(ListenerConfig config, std::vector<Route> routes, metrics::Metrics& metrics)
    : config_(std::move(config)),
      routes_(std::move(routes), config_.kind, metrics),
      metrics_(metrics) {}

void Dispatcher::Dispatch(HttpRequest& request, ReplySink& sink, bool close_requested) const {
  internal::Exchange exchange;
  exchange.start = SteadyClock::now();
  exchange.send_at = exchange.start;
  exchange.method = request.method;
  exchange.path = request.path;
  exchange.body = request.body;
  exchange.close_requested = close_requested;
  exchange.metric_route = routes_.unmatched_route();
  if (config_.journal != nullptr) {
    exchange.session.assign(request.Cookie(config_.journal->session_cookie()));
  }
  if (config_.kind == metrics::Listener::kPublic) {
    exchange.accept_language = request.accept_language;
    for (const auto& [name, value] : request.query) {
      if (name == "locale") exchange.locale_params.push_back(value);
    }
    // Logto's API app tags every GET it answers with a body (koa-body-etag.ts); /oidc is not in it.
    exchange.etag = request.method == Method::kGet && request.path.rfind("/api/", 0) == 0;
    exchange.if_none_match = request.if_none_match;
    exchange.cache_control = request.cache_control;
  }
  config_.lifecycle->Enter();

  std::vector<Method> allowed;
  const Route* route = routes_.Match(request.path, request.method, &request.id, &allowed);
  exchange.route = route;
  CorsDecision cors = DecideCors(config_.cors, request);
  exchange.cors_headers = std::move(cors.headers);
  exchange.preflight = cors.preflight;
  if (cors.credentialed && config_.kind == metrics::Listener::kPublic) {
    exchange.deviations.Add(Deviation::kCredentialedCors);
  }

  Reply reply;
  if (cors.preflight) {
    reply.status = 204;
  } else if (RefuseWhileDraining(reply)) {
  } else if (RefuseUnauthorized(request, route, reply)) {
    if (route != nullptr) exchange.metric_route = route->metric_route;
  } else if (AnswerUnmatched(request, route, allowed, reply)) {
  } else {
    exchange.metric_route = route->metric_route;
    if (!RefuseOversizedBody(request, reply)) {
      std::optional<FaultRule> rule;
      if (config_.faults && route->fault != FaultKey::kNone) rule = config_.faults(route->fault);
      const FaultPlan plan = rule ? DrawFault(*rule) : FaultPlan{};
      exchange.send_at = exchange.start + plan.delay;
      if (plan.kind == FaultPlan::Kind::kReset) {
        sink.Reset();
        reply.status = 0;  // no answer: the connection was reset
        Finish(exchange, reply, nullptr);
        return;
      }
      if (plan.kind == FaultPlan::Kind::kError) {
        reply.status = rule->error_status;
        reply.body = SimpleErrorBody(rule->error_code, rule->error_message);
        reply.error_code = rule->error_code;
      } else {
        internal::Deferral deferral(*this, exchange, sink);
        request.deferral = &deferral;
        RunHandler(*route, request, reply);
        request.deferral = nullptr;
        if (deferral.deferred()) return;  // the handler's PendingAnswer answers
        exchange.deviations |= request.deviations;
      }
    }
  }
  Answer(exchange, reply, sink);
}

bool Dispatcher::RefuseWhileDraining(Reply& reply) const {
  if (!config_.lifecycle->draining()) return false;
  SetError(reply, ApiError::kShuttingDown);  // Finish adds Connection: close
  return true;
}

bool Dispatcher::Authorized(const HttpRequest& request) const {
  if (config_.admin_token.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view auth = request.authorization;
  if (auth.size() < kBearer.size() || auth.substr(0, kBearer.size()) != kBearer) return false;
  return ConstantTimeEquals(auth.substr(kBearer.size()), config_.admin_token);
}

bool Dispatcher::RefuseUnauthorized(const HttpRequest& request, const Route* route,
                                    Reply& reply) const {
  if (config_.admin_token.empty()) return false;
  // Every /admin path needs the token, known or not, so probing reveals nothing.
  const bool admin_path = request.path == "/admin" || request.path.rfind("/admin/", 0) == 0;
  const bool needs_token = route != nullptr ? route->access == Access::kToken : admin_path;
  if (!needs_token || Authorized(request)) return false;
  SetError(reply, ApiError::kUnauthorized);
  return true;
}

bool Dispatcher::AnswerUnmatched(const HttpRequest& request, const Route* route,
                                 const std::vector<Method>& allowed, Reply& reply) const {
  if (route != nullptr) return false;
  const std::string where =
      std::string(MethodName(request.method)) + " " + std::string(request.path) + ".";
  if (allowed.empty()) {
    SetError(reply, config_.not_found, "No route matches " + where);
    return true;
  }
  std::string names;
  for (Method m : allowed) {
    if (!names.empty()) names += ", ";
    names += MethodName(m);
  }
  SetError(reply, config_.method_not_allowed,
           "Method not allowed: " + where + " Allowed: " + names + ".");
  reply.headers.push_back({"Allow", names});
  return true;
}

void Dispatcher::SetBodyTooLarge(Reply& reply) const {
  SetError(reply, config_.body_too_large,
           "The request exceeds the limit of " + std::to_string(config_.max_body_bytes) +
               " body bytes.");
}

bool Dispatcher::RefuseOversizedBody(const HttpRequest& request, Reply& reply) const {
  if (request.body.size() <= config_.max_body_bytes) return false;
  SetBodyTooLarge(reply);
  return true;
}

void Dispatcher::RunHandler(const Route& route, HttpRequest& request, Reply& reply) const {
  try {
    route.handler(request, reply);
    return;
  } catch (const std::exception& e) {
    LogError("unhandled error on {} {}: {}", MethodName(request.method), route.path, e.what());
  } catch (...) {
    LogError("unhandled non-standard exception on {} {}", MethodName(request.method), route.path);
  }
  // A handler that deferred before throwing still answers through its PendingAnswer (dropping
  // it answers 500); this reply is then ignored.
  reply = Reply{};
  SetError(reply, Outcome::kInternal);
}

void Dispatcher::Answer(internal::Exchange& exchange, Reply& reply, ReplySink& sink) const {
  if (exchange.send_at > SteadyClock::now()) {
    auto pending = std::make_shared<internal::PendingExchange>(*this, exchange, sink.Detach());
    pending->Complete(std::move(reply));
    return;
  }
  Finish(exchange, reply, &sink);
}

void Dispatcher::Finish(internal::Exchange& exchange, Reply& reply, ReplySink* sink) const {
  Lifecycle& lifecycle = *config_.lifecycle;
  if (sink != nullptr && reply.status >= 400 && !reply.translatable.code.empty() &&
      config_.kind == metrics::Listener::kPublic) {
    // Logto words every error in the request's language (middleware/koa-i18next.ts) and sets
    // neither Content-Language nor Vary on it; mfa-mock's own codes stay English.
    LocalizeErrorBody(reply.body, reply.translatable, internal::RequestLocale(exchange));
  }
  exchange.deviations |= reply.deviations;
  if (exchange.etag && reply.status >= 200 && reply.status < 300 && !reply.body.empty() &&
      !reply.stream) {
    std::string tag = EtagOf(reply.body);
    if (IsFresh(exchange.if_none_match, exchange.cache_control, tag)) {
      // koa drops the body and its headers on a 304.
      reply.status = 304;
      reply.body.clear();
      reply.content_type = {};
    }
    reply.headers.push_back({"ETag", std::move(tag)});
  }
  const bool deviated = !exchange.deviations.empty() && reply.status != 0;
  if (deviated) {
    for (Deviation kind : kAllDeviations) {
      if (!exchange.deviations.Has(kind)) continue;
      reply.headers.push_back({kDeviationHeader, HeaderValue(kind)});
      metrics_.DeviationAnswered(kind);
    }
    // A page on another origin may read the header (the inbox page and tests do).
    if (!exchange.cors_headers.empty()) {
      reply.headers.push_back({"Access-Control-Expose-Headers", std::string(kDeviationHeader)});
    }
  }
  // Counted and journaled (both in memory) before the answer leaves: a client that has its
  // answer and then reads /admin/requests or /metrics finds its own request there.
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - exchange.start).count();
  const std::string_view method = MethodName(exchange.method);
  const std::string_view error_code =
      reply.status >= 400 ? std::string_view(reply.error_code) : std::string_view();
  metrics_.HttpRequest(config_.kind, exchange.metric_route, method, reply.status, seconds);
  if (config_.journal != nullptr && !exchange.preflight) {
    config_.journal->Record(config_.clock->NowMs(), method, exchange.path, reply.status, seconds,
                            error_code, exchange.body, exchange.session, reply.body,
                            deviated ? exchange.deviations : DeviationSet{});
  }
  if (sink != nullptr) {
    if (!exchange.cors_headers.empty()) {
      reply.headers.insert(reply.headers.begin(),
                           std::make_move_iterator(exchange.cors_headers.begin()),
                           std::make_move_iterator(exchange.cors_headers.end()));
    }
    sink->Send(reply, exchange.close_requested || lifecycle.draining());
  }
  // The access log (a write to stderr) stays off the answer's path.
  if (config_.access_log != nullptr) {
    config_.access_log->Write(config_.name, method,
                              exchange.route != nullptr ? exchange.route->path : "unmatched",
                              reply.status, seconds, error_code);
  }
  lifecycle.Leave();
}

}  // namespace mfa
