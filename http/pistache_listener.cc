// SPDX-License-Identifier: Apache-2.0
#include "http/pistache_listener.h"

#include <sys/socket.h>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "http/header_screen.h"
#include "http/response_format.h"

namespace mfa {

// The bodies one listener streams from other threads (exports): Shutdown ends them and waits
// until none is inside Pistache, whose transports it is about to destroy. Thread-safe (atomics).
struct StreamGate {
  std::atomic<bool> closing{false};
  std::atomic<int> active{0};  // SendStreamFromAnyThread calls under way
};

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;

namespace {

// See HttpListener::QueuedAnswers.
std::atomic<int64_t> queued_answers{0};

// Pistache's parser plus what one connection keeps between requests.
class ConnectionParser final : public Http::RequestParser {
 public:
  using Http::RequestParser::RequestParser;
  // After an error reply the rest of the connection's input is ignored (the client is told
  // Connection: close), so a refused 10 MB body is not re-parsed as a stream of requests.
  bool discarding = false;
  HeaderScreener screener;
  std::string peer_address;
  // Set by the connection's reactor when the client is gone. Pistache 0.0.5 drops the writes
  // still queued for a closed connection without settling their promises, so a streamed body
  // written from another thread learns of the close from here (SendAndWait).
  std::atomic<bool> gone{false};
  std::shared_ptr<StreamGate> streams;  // the listener's
};

std::shared_ptr<ConnectionParser> ConnectionOf(const Tcp::Peer& peer) {
  return std::static_pointer_cast<ConnectionParser>(peer.tryGetData(Http::Handler::ParserData));
}

Method ToMethod(Http::Method method) {
  switch (method) {
    case Http::Method::Get:
      return Method::kGet;
    case Http::Method::Post:
      return Method::kPost;
    case Http::Method::Put:
      return Method::kPut;
    case Http::Method::Patch:
      return Method::kPatch;
    case Http::Method::Delete:
      return Method::kDelete;
    case Http::Method::Options:
      return Method::kOptions;
    case Http::Method::Head:
      return Method::kHead;
    default:
      return Method::kOther;
  }
}

HttpVersion ToVersion(Http::Version version) {
  return version == Http::Version::Http10 ? HttpVersion::kHttp10 : HttpVersion::kHttp11;
}

// A response header Pistache writes as given (its addRaw() headers are never sent).
class TextHeader final : public Http::Header::Header {
 public:
  TextHeader(std::string_view name, std::string value) : name_(name), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }
  void parse(const std::string&) override {}
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string name_;
  std::string value_;
};

// Writes the answer of one request. Send writes the bytes itself (FormatResponse) and hands
// them to Pistache's transport, which queues writes from any thread to the connection's
// reactor; a streamed body goes through Pistache's chunked stream.
class PistacheSink final : public ReplySink {
 public:
  PistacheSink(Http::ResponseWriter& writer, HttpVersion version)
      : writer_(&writer), version_(version) {}
  explicit PistacheSink(std::unique_ptr<Http::ResponseWriter> owned, HttpVersion version)
      : owned_(std::move(owned)), writer_(owned_.get()), version_(version) {}

  void Send(Reply& reply, bool close) override {
    // A detached sink is written from another thread (a deferred answer): Pistache 0.0.5's
    // ResponseStream there loses writes ("could not find write data"), so the chunks go one at
    // a time through the transport's thread-safe send.
    if (reply.stream)
      return owned_ ? SendStreamFromAnyThread(reply, close) : SendStream(reply, close);
    std::shared_ptr<Tcp::Peer> peer = writer_->getPeer();
    if (!peer) return;  // the client is gone
    const auto code = static_cast<Http::Code>(reply.status);
    std::string bytes =
        FormatResponse(version_, reply.status, Http::codeString(code), reply, close);
    peer->setIdle(true);  // as ResponseWriter::send: the keep-alive timer applies from here
    const size_t size = bytes.size();
    // An answer sent from another thread is queued to the connection's reactor: counted until
    // written (or failed), so shutdown does not close the listener under it.
    const bool queued = owned_ != nullptr;
    if (queued) queued_answers.fetch_add(1, std::memory_order_acq_rel);
    auto sent = peer->send(Pistache::RawBuffer(std::move(bytes), size));
    if (!close && !queued) return;
    // Pistache keeps the socket open after "Connection: close": the client should see the
    // answer, then EOF.
    std::weak_ptr<Tcp::Peer> weak = peer;
    sent.then(
        [weak, close, queued](ssize_t) {
          if (queued) queued_answers.fetch_sub(1, std::memory_order_acq_rel);
          if (!close) return;
          if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_WR);
        },
        [queued](std::exception_ptr) {
          if (queued) queued_answers.fetch_sub(1, std::memory_order_acq_rel);
        });
  }

  // SO_LINGER 0 makes the close that Pistache does once it reads EOF send RST instead of FIN;
  // shutting down only the read side gives it that EOF without sending anything.
  void Reset() override {
    auto peer = writer_->getPeer();
    if (!peer) return;
    struct linger no_linger {
      1, 0
    };
    ::setsockopt(peer->fd(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
    ::shutdown(peer->fd(), SHUT_RD);
  }

  std::unique_ptr<ReplySink> Detach() override {
    // Pistache answers a peer that is not idle with a bare 408 once its body timeout passes since
    // the request: a held answer (an injected delay, a store call) would lose its connection after
    // 10 s. Marked idle, it falls under the keep-alive timeout instead.
    if (auto peer = writer_->getPeer()) peer->setIdle(true);
    return std::make_unique<PistacheSink>(
        std::make_unique<Http::ResponseWriter>(std::move(*writer_)), version_);
  }

 private:
  void SendStream(Reply& reply, bool close) {
    auto& headers = writer_->headers();
    headers.add(std::make_shared<TextHeader>("Connection", close ? "Close" : "Keep-Alive"));
    for (const ReplyHeader& header : reply.headers) {
      headers.add(std::make_shared<TextHeader>(header.name, header.value));
    }
    headers.add(std::make_shared<TextHeader>("Content-Type", std::string(reply.content_type)));
    auto stream = writer_->stream(static_cast<Http::Code>(reply.status));
    PumpStream(reply, [&stream](const std::string& chunk) {
      stream.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      stream.flush();
      return true;
    });
    stream.ends();
  }

  // Pulls a streamed body in slices and hands it on in ~64 KiB chunks (a large body is never
  // built whole) until the body ends or `write` returns false (the client is gone).
  template <typename Write>
  static bool PumpStream(Reply& reply, Write&& write) {
    std::string chunk;
    chunk.reserve(70 * 1024);
    bool more = true;
    while (more) {
      more = reply.stream(&chunk);
      if (chunk.size() >= 64 * 1024 || (!more && !chunk.empty())) {
        if (!write(chunk)) return false;
        chunk.clear();
      }
    }
    return true;
  }

  // Sends `bytes` and waits until the transport wrote them: one write in flight per connection.
  // False (the producer stops) when the write failed, the client left, or `kStreamStall` passed
  // without the client reading.
  static bool SendAndWait(const std::shared_ptr<Tcp::Peer>& peer,
                          const ConnectionParser& connection, std::string bytes) {
    auto written = std::make_shared<std::promise<bool>>();
    std::future<bool> outcome = written->get_future();
    const size_t size = bytes.size();
    peer->send(Pistache::RawBuffer(std::move(bytes), size))
        .then([written](ssize_t) { written->set_value(true); },
              [written](std::exception_ptr) { written->set_value(false); });
    const auto give_up = std::chrono::steady_clock::now() + kStreamStall;
    while (outcome.wait_for(kGoneCheck) != std::future_status::ready) {
      if (connection.gone.load(std::memory_order_acquire) ||
          connection.streams->closing.load(std::memory_order_seq_cst)) {
        return false;
      }
      if (std::chrono::steady_clock::now() >= give_up) return false;
    }
    return outcome.get();
  }

  void SendStreamFromAnyThread(Reply& reply, bool close) {
    std::shared_ptr<StreamGate> gate;
    {
      std::shared_ptr<Tcp::Peer> peer = writer_->getPeer();
      if (!peer) return;
      const std::shared_ptr<ConnectionParser> connection = ConnectionOf(*peer);
      if (!connection) return;
      gate = connection->streams;
      // Counted before the check, so that Shutdown either sees this stream or this stream sees
      // Shutdown (both seq_cst).
      gate->active.fetch_add(1, std::memory_order_seq_cst);
      if (!gate->closing.load(std::memory_order_seq_cst)) StreamTo(peer, *connection, reply, close);
    }
    // Counted down only once this thread holds no reference into the connection, which the
    // listener frees after Shutdown.
    gate->active.fetch_sub(1, std::memory_order_seq_cst);
  }

  void StreamTo(const std::shared_ptr<Tcp::Peer>& peer, const ConnectionParser& connection,
                Reply& reply, bool close) {
    const auto code = static_cast<Http::Code>(reply.status);
    if (!SendAndWait(
            peer, connection,
            FormatStreamHead(version_, reply.status, Http::codeString(code), reply, close))) {
      return;
    }
    const bool sent = PumpStream(reply, [this, &peer, &connection](const std::string& chunk) {
      return SendAndWait(peer, connection, FrameChunk(version_, chunk));
    });
    if (!sent) return;  // the client is gone
    if (version_ == HttpVersion::kHttp11) SendAndWait(peer, connection, FrameChunk(version_, {}));
    if (close || version_ == HttpVersion::kHttp10) ::shutdown(peer->fd(), SHUT_WR);
  }

  static constexpr std::chrono::seconds kStreamStall{30};
  static constexpr std::chrono::milliseconds kGoneCheck{50};

  std::unique_ptr<Http::ResponseWriter> owned_;
  Http::ResponseWriter* writer_;
  HttpVersion version_;
};

// The Handler clones of the worker threads share `dispatcher`.
class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  Handler(std::shared_ptr<const Dispatcher> dispatcher, std::shared_ptr<StreamGate> streams)
      : dispatcher_(std::move(dispatcher)), streams_(std::move(streams)) {}

  // Pistache requires it; onInput below dispatches directly.
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    Serve(request, response, RawHeaders{}, {});
  }

  void onTimeout(const Http::Request& request, Http::ResponseWriter response) override {
    PistacheSink sink(response, ToVersion(request.version()));
    Reply reply;
    SetError(reply, ApiError::kRequestTimeout);
    sink.Send(reply, /*close=*/true);
  }

 private:
  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    if (auto parser = ConnectionOf(*peer)) {
      parser->gone.store(true, std::memory_order_release);
    }
    Http::Handler::onDisconnection(peer);
  }

  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    auto parser = std::make_shared<ConnectionParser>(getMaxRequestSize());
    parser->streams = streams_;
    const Pistache::Address& address = peer->address();
    parser->peer_address = address.host() + ":" + address.port().toString();
    peer->putData(ParserData, parser);
  }

  // Pistache's own onInput (a private virtual of Http::Handler in 0.0.5: the reason CMake pins
  // that version), with the header block screened first, error replies made JSON (never
  // exception text), and the connection closed after an error.
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    auto parser = std::static_pointer_cast<ConnectionParser>(getParser(peer));
    if (parser->discarding) return;
    RawHeaders raw;
    switch (parser->screener.Screen(std::string_view(buffer, len), &raw)) {
      case HeaderScreen::kOk:
        break;
      case HeaderScreen::kTooLarge:
        parser->reset();
        return FailAndClose(
            peer, *parser, ApiError::kHeadersTooLarge,
            "The request headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes.");
      case HeaderScreen::kBadContentLength:
        parser->reset();
        return FailAndClose(peer, *parser, ApiError::kMalformedRequest,
                            "Malformed HTTP request: invalid or conflicting Content-Length.");
    }
    try {
      if (!parser->feed(buffer, len)) {
        parser->reset();
        Reply reply;
        dispatcher_->SetBodyTooLarge(reply);
        return FailAndClose(peer, *parser, std::move(reply));
      }
      if (parser->parse() != Http::Private::State::Done) return;
      Http::ResponseWriter response(parser->request.version(), transport(), this, peer);
      peer->setIdle(false);
      Serve(parser->request, response, raw, parser->peer_address);
      parser->reset();
      parser->screener.NextRequest();
    } catch (const Http::HttpError& e) {
      parser->reset();
      const bool unsupported = e.code() == static_cast<int>(Http::Code::Not_Implemented);
      FailAndClose(peer, *parser,
                   unsupported ? ApiError::kUnsupportedEncoding : ApiError::kMalformedRequest, {});
    } catch (const std::exception&) {
      // e.g. Content-Length: -5 makes Pistache's parser throw std::length_error.
      parser->reset();
      FailAndClose(peer, *parser, ApiError::kMalformedRequest, {});
    }
  }

  // Builds the plain request value and dispatches it.
  void Serve(const Http::Request& request, Http::ResponseWriter& response, const RawHeaders& raw,
             std::string_view peer_address) {
    const ListenerConfig& config = dispatcher_->config();
    HttpRequest value;
    value.method = ToMethod(request.method());
    value.version = ToVersion(request.version());
    value.path = request.resource();
    value.body = request.body();
    value.peer = peer_address;
    std::string content_type;  // formatted by Pistache when the raw block was not at hand
    std::string origin;
    std::string accept_language;
    if (raw.complete) {
      value.content_type = raw.content_type;
      value.origin = raw.origin;
      value.accept_language = raw.accept_language;
    } else {
      accept_language = RawHeader(request, "Accept-Language");
      value.accept_language = accept_language;
      content_type = ContentTypeOf(request);
      value.content_type = content_type;
      if (config.cors.mode != CorsPolicy::Mode::kOff) {
        origin = RawHeader(request, "Origin");
        value.origin = origin;
      }
    }
    std::string authorization;
    if (!config.admin_token.empty()) {
      if (auto auth = request.headers().tryGet<Http::Header::Authorization>()) {
        authorization = auth->value();
        value.authorization = authorization;
      }
    }
    std::string acr_method;
    std::string acr_headers;
    if (value.method == Method::kOptions) {
      acr_method = RawHeader(request, "Access-Control-Request-Method");
      acr_headers = RawHeader(request, "Access-Control-Request-Headers");
      value.access_control_request_method = acr_method;
      value.access_control_request_headers = acr_headers;
    }
    std::string last_event_id;
    std::string if_none_match;
    std::string cache_control;
    if (value.method == Method::kGet) {
      last_event_id = RawHeader(request, "Last-Event-ID");
      value.last_event_id = last_event_id;
      if_none_match = RawHeader(request, "If-None-Match");
      value.if_none_match = if_none_match;
      if (!if_none_match.empty()) {
        cache_control = RawHeader(request, "Cache-Control");
        value.cache_control = cache_control;
      }
    }
    const Http::Uri::Query& query = request.query();
    for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
      value.query.emplace_back(it->first, it->second);
    }
    // The jar's iterator returns copies from operator*; operator-> points into the jar.
    const Http::CookieJar& jar = request.cookies();
    for (auto it = jar.begin(); it != jar.end(); ++it) {
      bool seen = false;
      for (const auto& [name, unused] : value.cookies) seen = seen || name == it->name;
      if (!seen) value.cookies.emplace_back(it->name, it->value);
    }
    bool close_requested;
    if (auto connection = request.headers().tryGet<Http::Header::Connection>()) {
      close_requested = connection->control() == Http::ConnectionControl::Close;
    } else {
      // HTTP/1.1 defaults to keep-alive; Pistache would answer "Connection: Close".
      close_requested = request.version() != Http::Version::Http11;
    }
    PistacheSink sink(response, value.version);
    dispatcher_->Dispatch(value, sink, close_requested);
  }

  static std::string RawHeader(const Http::Request& request, const std::string& name) {
    auto raw = request.headers().tryGetRaw(name);
    return raw ? raw->value() : std::string();
  }

  static std::string ContentTypeOf(const Http::Request& request) {
    auto ct = request.headers().tryGet<Http::Header::ContentType>();
    if (!ct) return {};
    const Http::Mime::MediaType& mime = ct->mime();
    if (mime.top() == Http::Mime::Type::Application &&
        (mime.sub() == Http::Mime::Subtype::Json || mime.suffix() == Http::Mime::Suffix::Json)) {
      return "application/json";
    }
    return mime.toString();
  }

  void FailAndClose(const std::shared_ptr<Tcp::Peer>& peer, ConnectionParser& parser,
                    ApiError error, std::string_view message) {
    Reply reply;
    SetError(reply, error, message);
    FailAndClose(peer, parser, std::move(reply));
  }

  // Answers `reply` with Connection: close and ignores the rest of the connection's input.
  void FailAndClose(const std::shared_ptr<Tcp::Peer>& peer, ConnectionParser& parser, Reply reply) {
    parser.discarding = true;
    Http::ResponseWriter response(Http::Version::Http11, transport(), this, peer);
    PistacheSink sink(response, HttpVersion::kHttp11);
    sink.Send(reply, /*close=*/true);
  }

  std::shared_ptr<const Dispatcher> dispatcher_;
  std::shared_ptr<StreamGate> streams_;
};

}  // namespace

HttpListener::HttpListener(const std::string& host, uint16_t port, int threads,
                           std::shared_ptr<const Dispatcher> dispatcher)
    : dispatcher_(std::move(dispatcher)), streams_(std::make_shared<StreamGate>()) {
  const ListenerConfig& config = dispatcher_->config();
  // Pistache parses "host:port" itself and needs IPv6 hosts in brackets.
  const std::string literal = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  endpoint_ =
      std::make_unique<Http::Endpoint>(Pistache::Address(literal + ":" + std::to_string(port)));
  auto options = Http::Endpoint::options()
                     .threads(threads)
                     .flags(Tcp::Options::ReuseAddr)
                     .maxRequestSize(config.max_body_bytes + 16 * 1024)
                     .headerTimeout(config.header_timeout)
                     .bodyTimeout(config.header_timeout)
                     .keepaliveTimeout(config.keepalive_timeout);
  endpoint_->init(options);
  endpoint_->setHandler(std::make_shared<Handler>(dispatcher_, streams_));
}

HttpListener::~HttpListener() { Shutdown(); }

void HttpListener::Start() { endpoint_->serveThreaded(); }

void HttpListener::Shutdown() {
  // Streams written from other threads end at their next check (SendAndWait, every 50 ms); the
  // bound only matters if one is stuck inside Pistache.
  streams_->closing.store(true, std::memory_order_seq_cst);
  const auto by = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (streams_->active.load(std::memory_order_seq_cst) > 0 &&
         std::chrono::steady_clock::now() < by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (endpoint_) endpoint_->shutdown();
}

int64_t HttpListener::QueuedAnswers() { return queued_answers.load(std::memory_order_acquire); }

uint16_t HttpListener::port() const { return static_cast<uint16_t>(endpoint_->getPort()); }

}  // namespace mfa
