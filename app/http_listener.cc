#include "app/http_listener.h"

#include <sys/socket.h>

#include <pistache/peer.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <random>
#include <stdexcept>

#include "app/access_log.h"
#include "app/deferred_replies.h"
#include "app/error_table.h"
#include "app/log.h"
#include "app/request_journal.h"
#include "core/clock.h"

namespace mfa {

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;

namespace {

// Pistache's parser plus one flag: after an error reply the rest of the connection's input is
// ignored (the client is told Connection: close), so a refused 10 MB body is not re-parsed as
// a stream of garbage requests.
class ConnectionParser final : public Http::RequestParser {
 public:
  using Http::RequestParser::RequestParser;
  bool discarding = false;
  // Where the connection is in the current request's header block (see ScreenHeaders).
  bool in_headers = true;
  size_t header_bytes = 0;
  char tail[3] = {0, 0, 0};  // last bytes of the previous chunk, for a split "\r\n\r\n"
  size_t tail_len = 0;

  void NextRequest() {
    in_headers = true;
    header_bytes = 0;
    tail_len = 0;
  }
};

// Header blocks past this size are refused: Pistache's header parsing is quadratic in it.
constexpr size_t kMaxHeaderBytes = 16 * 1024;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimBlanks(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// The request headers the hot path reads, taken from the raw header block while it is screened:
// a lookup in Pistache's header map costs about a thousand instructions per header. Like
// Pistache, the first of repeated headers wins. The views point into the input chunk.
struct RawHeaders {
  bool complete = false;  // the whole header block was in the chunk being handled
  std::string_view content_type;
  std::string_view origin;
};

// The raw headers of the request being dispatched on this thread, or null when its header block
// did not arrive in one chunk (HeaderValue then asks Pistache). Set only during Dispatch.
thread_local const RawHeaders* t_raw_headers = nullptr;

class RawHeadersScope {
 public:
  explicit RawHeadersScope(const RawHeaders& raw) {
    if (raw.complete) t_raw_headers = &raw;
  }
  ~RawHeadersScope() { t_raw_headers = nullptr; }
  RawHeadersScope(const RawHeadersScope&) = delete;
  RawHeadersScope& operator=(const RawHeadersScope&) = delete;
};

// One pass over a complete header block (request line first). Pistache reads "26abc", "+26" or
// "26 26" as 26 and takes the first of two Content-Length headers: false unless every
// Content-Length line is plain digits and they all agree. Fills `raw` on the way.
bool ScanHeaderBlock(std::string_view headers, RawHeaders* raw) {
  std::string_view seen;
  bool have_content_type = false;
  bool have_origin = false;
  size_t pos = headers.find("\r\n");
  while (pos != std::string_view::npos) {
    const size_t start = pos + 2;
    const size_t end = headers.find("\r\n", start);
    const std::string_view line =
        headers.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    pos = end;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimBlanks(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-length")) {
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      if (!seen.empty() && seen != value) return false;
      seen = value;
    } else if (!have_content_type && EqualsIgnoreCase(name, "content-type")) {
      have_content_type = true;
      raw->content_type = value;
    } else if (!have_origin && EqualsIgnoreCase(name, "origin")) {
      have_origin = true;
      raw->origin = value;
    }
  }
  return true;
}

enum class HeaderScreen { kOk, kTooLarge, kBadContentLength };

// Tracks the header block of the request being received, chunk by chunk: refuses oversized
// header blocks and Content-Length values Pistache would misread. Pipelining is unsupported, so
// a chunk that starts a request starts with its request line.
// `raw` is filled (and marked complete) when the whole block is in `chunk`.
HeaderScreen ScreenHeaders(ConnectionParser& p, std::string_view chunk, RawHeaders* raw) {
  if (!p.in_headers) return HeaderScreen::kOk;
  const bool starts_request = p.header_bytes == 0;
  size_t end = chunk.find("\r\n\r\n");
  if (end == std::string_view::npos && p.tail_len > 0) {
    // The terminator may straddle the previous chunk and this one.
    const std::string joined = std::string(p.tail, p.tail_len) + std::string(chunk.substr(0, 3));
    if (joined.find("\r\n\r\n") != std::string::npos) end = 0;
  }
  if (end == std::string_view::npos) {
    p.header_bytes += chunk.size();
    if (p.header_bytes > kMaxHeaderBytes) return HeaderScreen::kTooLarge;
    p.tail_len = std::min<size_t>(3, chunk.size());
    std::memcpy(p.tail, chunk.data() + chunk.size() - p.tail_len, p.tail_len);
    return HeaderScreen::kOk;
  }
  p.in_headers = false;
  if (p.header_bytes + end > kMaxHeaderBytes) return HeaderScreen::kTooLarge;
  // Values are checked when the whole block arrived in one chunk (the common case).
  if (starts_request) {
    if (!ScanHeaderBlock(chunk.substr(0, end + 2), raw)) return HeaderScreen::kBadContentLength;
    raw->complete = true;
  }
  return HeaderScreen::kOk;
}

// A response header whose value is held as text. Every header mfa-mock sets is one, so
// SendReply can write the response itself (see SendDirect). Pistache's addRaw() headers are
// never sent, so custom names need a typed header anyway.
class TextHeader : public Http::Header::Header {
 public:
  virtual std::string_view text() const = 0;
  void parse(const std::string&) override {}
  void write(std::ostream& os) const final { os << text(); }
};

// Fixed name and value (static strings): shared by every response, see below.
class FixedHeader final : public TextHeader {
 public:
  FixedHeader(const char* name, const char* value) : name_(name), value_(value) {}
  const char* name() const override { return name_; }
  uint64_t hash() const override { return Http::Header::detail::hash(name_); }
  std::string_view text() const override { return value_; }

 private:
  const char* name_;
  const char* value_;
};

// A static name with a run-time value.
class NamedHeader final : public TextHeader {
 public:
  NamedHeader(const char* name, std::string value) : name_(name), value_(std::move(value)) {}
  const char* name() const override { return name_; }
  uint64_t hash() const override { return Http::Header::detail::hash(name_); }
  std::string_view text() const override { return value_; }

 private:
  const char* name_;
  std::string value_;
};

// Immutable header objects shared by every response (a header collection holds shared_ptrs and
// only reads them), so the hot path allocates no header and formats no media type.
struct SharedHeaders {
  static std::shared_ptr<Http::Header::Header> Fixed(const char* name, const char* value) {
    return std::make_shared<FixedHeader>(name, value);
  }
  const std::shared_ptr<Http::Header::Header> json_content_type =
      Fixed("Content-Type", "application/json; charset=utf-8");
  // The values Pistache's typed Connection header writes.
  const std::shared_ptr<Http::Header::Header> keep_alive = Fixed("Connection", "Keep-Alive");
  const std::shared_ptr<Http::Header::Header> close = Fixed("Connection", "Close");
  const std::shared_ptr<Http::Header::Header> vary_origin = Fixed("Vary", "Origin");
  const std::shared_ptr<Http::Header::Header> allow_credentials =
      Fixed("Access-Control-Allow-Credentials", "true");
  const std::shared_ptr<Http::Header::Header> allow_any_origin =
      Fixed("Access-Control-Allow-Origin", "*");
};

const SharedHeaders& Shared() {
  static const SharedHeaders headers;
  return headers;
}

// Sends `reply`, then half-closes the connection once it is out: Pistache keeps the socket open
// after "Connection: close", and the client should see the answer, then EOF.
void SendReplyAndClose(Http::ResponseWriter& writer, const Reply& reply) {
  std::weak_ptr<Tcp::Peer> weak = writer.getPeer();
  SendReply(writer, reply)
      .then(
          [weak](ssize_t) {
            if (auto p = weak.lock()) ::shutdown(p->fd(), SHUT_WR);
          },
          Pistache::Async::IgnoreException);
}

// A JSON error reply built by the listener itself.
Reply ListenerError(Http::Code code, std::string body, Http::Version version) {
  Reply reply;
  reply.status = static_cast<int>(code);
  reply.body = std::move(body);
  reply.version = version;
  return reply;
}

constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// Routes and the Handler clone per worker thread share `table`.
class Handler final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  explicit Handler(std::shared_ptr<const RouteTable> table) : table_(std::move(table)) {}

  // Pistache requires it; onInput dispatches directly (no ResponseWriter moves on the way).
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    const auto connection = request.headers().tryGet<Http::Header::Connection>();
    table_->Dispatch(request, response,
                     connection ? connection->control() == Http::ConnectionControl::Close
                                : request.version() != Http::Version::Http11);
  }

  void onTimeout(const Http::Request& request, Http::ResponseWriter response) override {
    response.headers().add(Shared().close);
    SendReply(response, ListenerError(Http::Code::Request_Timeout,
                                      SimpleErrorBody("request.timeout",
                                                      "The request took too long to arrive."),
                                      request.version()));
  }

 private:
  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    peer->putData(ParserData, std::make_shared<ConnectionParser>(getMaxRequestSize()));
  }

  // Pistache's own onInput, with the error replies made JSON (never exception text), the
  // keep-alive default of HTTP/1.1 honoured, and the connection closed after an error.
  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    auto parser = std::static_pointer_cast<ConnectionParser>(getParser(peer));
    if (parser->discarding) return;
    RawHeaders raw;
    switch (ScreenHeaders(*parser, std::string_view(buffer, len), &raw)) {
      case HeaderScreen::kOk:
        break;
      case HeaderScreen::kTooLarge:
        parser->reset();
        FailAndClose(peer, *parser, Http::Code::Request_Header_Fields_Too_Large,
                     SimpleErrorBody("request.headers_too_large",
                                     "The request headers exceed " +
                                         std::to_string(kMaxHeaderBytes) + " bytes."));
        return;
      case HeaderScreen::kBadContentLength:
        parser->reset();
        FailAndClose(peer, *parser, Http::Code::Bad_Request,
                     SimpleErrorBody("request.malformed",
                                     "Malformed HTTP request: invalid or conflicting "
                                     "Content-Length."));
        return;
    }
    try {
      if (!parser->feed(buffer, len)) {
        parser->reset();
        const ListenerConfig& config = table_->config();
        FailAndClose(peer, *parser, Http::Code::Request_Entity_Too_Large,
                     SimpleErrorBody(config.body_too_large_code,
                                     "The request exceeds the limit of " +
                                         std::to_string(config.max_body_bytes) + " body bytes."));
        return;
      }
      if (parser->parse() != Http::Private::State::Done) return;
      Http::Request& request = parser->request;
      Http::ResponseWriter response(request.version(), transport(), this, peer);
      auto connection = request.headers().tryGet<Http::Header::Connection>();
      bool close_requested;
      if (connection) {
        close_requested = connection->control() == Http::ConnectionControl::Close;
        if (close_requested) {
          response.headers().add(Shared().close);
        } else if (connection->control() == Http::ConnectionControl::KeepAlive) {
          response.headers().add(Shared().keep_alive);
        } else {
          response.headers().add<Http::Header::Connection>(connection->control());
        }
      } else {
        // HTTP/1.1 defaults to keep-alive; Pistache would answer "Connection: Close".
        close_requested = request.version() != Http::Version::Http11;
        response.headers().add(close_requested ? Shared().close : Shared().keep_alive);
      }
      peer->setIdle(false);
      {
        RawHeadersScope scope(raw);
        table_->Dispatch(request, response, close_requested);
      }
      parser->reset();
      parser->NextRequest();
    } catch (const Http::HttpError& e) {
      parser->reset();
      const bool unsupported = e.code() == static_cast<int>(Http::Code::Not_Implemented);
      FailAndClose(
          peer, *parser, unsupported ? Http::Code::Not_Implemented : Http::Code::Bad_Request,
          SimpleErrorBody("request.malformed", unsupported ? "Unsupported transfer encoding."
                                                           : "Malformed HTTP request."));
    } catch (const std::exception&) {
      // e.g. Content-Length: -5 makes Pistache's parser throw std::length_error.
      parser->reset();
      FailAndClose(peer, *parser, Http::Code::Bad_Request,
                   SimpleErrorBody("request.malformed", "Malformed HTTP request."));
    }
  }

  void FailAndClose(const std::shared_ptr<Tcp::Peer>& peer, ConnectionParser& parser,
                    Http::Code code, std::string body) {
    parser.discarding = true;
    Http::ResponseWriter response(Http::Version::Http11, transport(), this, peer);
    response.headers().add(Shared().close);
    SendReplyAndClose(response, ListenerError(code, std::move(body), Http::Version::Http11));
  }

  std::shared_ptr<const RouteTable> table_;
};

// Fault injection draws need no secrecy, only speed: a per-thread PRNG seeded once.
double UniformUnit() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

uint32_t UniformDelay(uint32_t lo, uint32_t hi) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

// Resets the connection: SO_LINGER 0 makes the close that Pistache does once it reads EOF send
// RST instead of FIN; shutting down only the read side gives it that EOF without sending anything.
void ResetConnection(Http::ResponseWriter& response) {
  auto peer = response.getPeer();
  if (!peer) return;
  struct linger no_linger {
    1, 0
  };
  ::setsockopt(peer->fd(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
  ::shutdown(peer->fd(), SHUT_RD);
}

// Printable ASCII, space and tab only: safe to echo into a response header (no CR, LF, NUL or
// other control byte that a client could read as the end of the header).
bool IsPlainHeaderValue(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u > 0x7e) return false;
  }
  return true;
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

}  // namespace

std::string_view MethodName(Http::Method method) {
  switch (method) {
    case Http::Method::Get:
      return "GET";
    case Http::Method::Post:
      return "POST";
    case Http::Method::Put:
      return "PUT";
    case Http::Method::Patch:
      return "PATCH";
    case Http::Method::Delete:
      return "DELETE";
    case Http::Method::Options:
      return "OPTIONS";
    case Http::Method::Head:
      return "HEAD";
    default:
      return "OTHER";
  }
}

std::string_view HeaderValue(const Http::Request& request, std::string_view name) {
  if (t_raw_headers != nullptr) {
    if (name == "Content-Type") return t_raw_headers->content_type;
    if (name == "Origin") return t_raw_headers->origin;
  }
  if (name == "Content-Type") {
    auto ct = request.headers().tryGet<Http::Header::ContentType>();
    if (!ct) return {};
    const Http::Mime::MediaType& mime = ct->mime();
    // The common case answers without formatting the media type into a new string.
    if (mime.top() == Http::Mime::Type::Application &&
        (mime.sub() == Http::Mime::Subtype::Json || mime.suffix() == Http::Mime::Suffix::Json)) {
      return "application/json";
    }
    thread_local std::string text;
    text = ct->mime().toString();
    return text;
  }
  if (name == "Authorization") {
    auto auth = request.headers().tryGet<Http::Header::Authorization>();
    if (!auth) return {};
    thread_local std::string value;
    value = auth->value();  // value() returns a temporary: keep it alive for the caller
    return value;
  }
  auto raw = request.headers().tryGetRaw(std::string(name));
  if (!raw) return {};
  thread_local std::string value;
  value = raw->value();
  return value;
}

namespace {

void AppendDecimal(std::string& out, size_t n) {
  char digits[20];
  size_t len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (len > 0) out.push_back(digits[--len]);
}

// Writes the response itself and hands the bytes to Pistache's transport (Tcp::Peer::send, the
// path ResponseWriter::send ends in): ResponseWriter::send formats through a fresh std::ostream
// and typed headers, about a fifth of the instructions of a whole verify. Same wire format:
// status line, the writer's headers, Content-Type, Content-Length, body. Declines (nullopt)
// when a header is not a TextHeader, a cookie is set, or the client is gone: ResponseWriter::send
// then does it (and reports a gone client as it always did).
std::optional<Pistache::Async::Promise<ssize_t>> SendDirect(Http::ResponseWriter& writer,
                                                            Http::Version version, Http::Code code,
                                                            std::string_view content_type,
                                                            std::string_view body) {
  if (writer.cookies().begin() != writer.cookies().end()) return std::nullopt;
  std::shared_ptr<Tcp::Peer> peer = writer.getPeer();
  if (!peer) return std::nullopt;
  const std::vector<std::shared_ptr<Http::Header::Header>> headers = writer.headers().list();
  std::string out;
  out.reserve(160 + body.size());
  out += Http::versionString(version);
  out += ' ';
  AppendDecimal(out, static_cast<size_t>(code));
  out += ' ';
  out += Http::codeString(code);
  out += "\r\n";
  for (const auto& header : headers) {
    const auto* text = dynamic_cast<const TextHeader*>(header.get());
    if (text == nullptr) return std::nullopt;
    out += header->name();
    out += ": ";
    out += text->text();
    out += "\r\n";
  }
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  AppendDecimal(out, body.size());
  out += "\r\n\r\n";
  out += body;
  peer->setIdle(true);  // as ResponseWriter::send: the keep-alive timer applies from here
  const size_t size = out.size();
  return peer->send(Pistache::RawBuffer(std::move(out), size));
}

}  // namespace

Pistache::Async::Promise<ssize_t> SendReply(Http::ResponseWriter& writer, const Reply& reply) {
  const auto code = static_cast<Http::Code>(reply.status);
  const bool no_content = reply.status == 204 || reply.status == 304;
  const std::string_view content_type = no_content ? std::string_view() : reply.content_type;
  const std::string_view body = no_content ? std::string_view() : std::string_view(reply.body);
  if (auto sent = SendDirect(writer, reply.version, code, content_type, body)) {
    return std::move(*sent);
  }
  if (no_content) return writer.send(code);
  if (content_type == kJsonContentType) {
    // Preformatted: Pistache would rebuild "application/json; charset=utf-8" from a MediaType.
    // Without a MediaType, send() leaves the Content-Type header alone.
    writer.headers().add(Shared().json_content_type);
    return writer.send(code, reply.body);
  }
  return writer.send(code, reply.body,
                     Http::Mime::MediaType::fromString(std::string(content_type)));
}

RouteTable::RouteTable(ListenerConfig config, std::vector<Route> routes, metrics::Metrics& metrics)
    : config_(std::move(config)), routes_(std::move(routes)), metrics_(metrics) {
  for (Route& route : routes_) {
    route.metric_route = metrics_.RegisterRoute(config_.kind, route.path);
    metrics_.DeclareRequest(route.metric_route, MethodName(route.method), route.success_status);
  }
  unmatched_route_ = metrics_.RegisterRoute(config_.kind, "unmatched");
}

const Route* RouteTable::Match(std::string_view path, Http::Method method, PathParams* params,
                               std::vector<Http::Method>* allowed) const {
  for (const Route& route : routes_) {
    std::string_view pattern = route.path;
    std::string_view rest = path;
    std::string_view id;
    bool ok = true;
    while (ok && !pattern.empty()) {
      const size_t brace = pattern.find("{id}");
      if (brace == std::string_view::npos) {
        ok = rest == pattern;
        rest = {};
        pattern = {};
        break;
      }
      if (rest.substr(0, brace) != pattern.substr(0, brace)) {
        ok = false;
        break;
      }
      rest.remove_prefix(brace);
      pattern.remove_prefix(brace + 4);
      const size_t end = rest.find('/');
      id = rest.substr(0, end);
      ok = !id.empty();
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    if (!ok || !rest.empty()) continue;
    if (route.method == method) {
      params->id = id;
      return &route;
    }
    if (std::find(allowed->begin(), allowed->end(), route.method) == allowed->end()) {
      allowed->push_back(route.method);
    }
  }
  return nullptr;
}

bool RouteTable::Authorized(const Http::Request& request) const {
  if (config_.admin_token.empty()) return true;
  std::string_view auth = HeaderValue(request, "Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() < kBearer.size() || auth.substr(0, kBearer.size()) != kBearer) return false;
  return ConstantTimeEquals(auth.substr(kBearer.size()), config_.admin_token);
}

bool RouteTable::ApplyCors(std::string_view origin, Http::ResponseWriter& response) const {
  const CorsPolicy& cors = config_.cors;
  bool allowed = false;
  switch (cors.mode) {
    case CorsPolicy::Mode::kOff:
      return false;
    case CorsPolicy::Mode::kAny:
      response.headers().add(Shared().allow_any_origin);
      return true;
    case CorsPolicy::Mode::kReflect:
      // Echoed into a response header: never a value that could end it early.
      allowed = IsPlainHeaderValue(origin);
      break;
    case CorsPolicy::Mode::kList:
      allowed = std::find(cors.origins.begin(), cors.origins.end(), origin) != cors.origins.end();
      break;
  }
  response.headers().add(Shared().vary_origin);
  if (!allowed) return false;
  // A specific origin (reflected or listed) may send cookies: sessions need them.
  response.headers().add(
      std::make_shared<NamedHeader>("Access-Control-Allow-Origin", std::string(origin)));
  response.headers().add(Shared().allow_credentials);
  return true;
}

void RouteTable::Dispatch(const Http::Request& request, Http::ResponseWriter& response,
                          bool close_requested) const {
  const auto start = std::chrono::steady_clock::now();
  Lifecycle& lifecycle = *config_.lifecycle;
  lifecycle.Enter();
  Reply reply;
  PathParams params;
  std::vector<Http::Method> allowed;
  const Route* route = Match(request.resource(), request.method(), &params, &allowed);
  metrics::RouteId metric_route = unmatched_route_;
  bool cors_allowed = false;
  bool preflight = false;
  std::chrono::milliseconds injected_delay{0};  // counted in the recorded duration
  if (config_.cors.mode != CorsPolicy::Mode::kOff) {
    const std::string origin(HeaderValue(request, "Origin"));
    if (!origin.empty()) {
      cors_allowed = ApplyCors(origin, response);
      preflight = request.method() == Http::Method::Options &&
                  !HeaderValue(request, "Access-Control-Request-Method").empty();
    }
  }
  if (preflight) {
    // Answer for any path: the browser asks before its real request, which then gets its own
    // 404/405 if the path or method is wrong.
    reply.status = 204;
    if (cors_allowed) {
      const std::string requested(HeaderValue(request, "Access-Control-Request-Headers"));
      response.headers().add(std::make_shared<NamedHeader>(
          "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"));
      response.headers().add(std::make_shared<NamedHeader>(
          "Access-Control-Allow-Headers",
          requested.empty() || !IsPlainHeaderValue(requested) ? "Content-Type" : requested));
      response.headers().add(std::make_shared<NamedHeader>("Access-Control-Max-Age", "600"));
    }
  } else if (lifecycle.draining()) {
    reply.status = 503;
    reply.body = SimpleErrorBody("request.shutting_down", "The mock is shutting down.");
    response.headers().remove<Http::Header::Connection>();
    response.headers().add(Shared().close);
  } else if (!config_.admin_token.empty() &&
             (request.resource() == "/admin" || request.resource().rfind("/admin/", 0) == 0) &&
             (route == nullptr || route->requires_admin_token) && !Authorized(request)) {
    // Every /admin path needs the token, known or not, so probing reveals nothing.
    if (route != nullptr) metric_route = route->metric_route;
    reply.status = 401;
    reply.body = SimpleErrorBody("admin.unauthorized",
                                 "Missing or invalid admin token: send Authorization: Bearer "
                                 "<token>.");
  } else if (route == nullptr) {
    const std::string where =
        std::string(MethodName(request.method())) + " " + request.resource() + ".";
    if (allowed.empty()) {
      reply.status = 404;
      reply.body = SimpleErrorBody(config_.not_found_code, "No route matches " + where);
    } else {
      reply.status = 405;
      std::string names;
      for (Http::Method m : allowed) {
        if (!names.empty()) names += ", ";
        names += MethodName(m);
      }
      reply.body = SimpleErrorBody(config_.method_not_allowed_code,
                                   "Method not allowed: " + where + " Allowed: " + names + ".");
      response.headers().add(std::make_shared<NamedHeader>("Allow", names));
    }
  } else {
    metric_route = route->metric_route;
    if (route->requires_admin_token && !Authorized(request)) {
      reply.status = 401;
      reply.body = SimpleErrorBody("admin.unauthorized",
                                   "Missing or invalid admin token: send Authorization: Bearer "
                                   "<token>.");
    } else if (request.body().size() > config_.max_body_bytes) {
      reply.status = 413;
      reply.body = SimpleErrorBody(config_.body_too_large_code,
                                   "The request exceeds the limit of " +
                                       std::to_string(config_.max_body_bytes) + " body bytes.");
    } else {
      std::optional<FaultRule> fault;
      if (config_.faults && !route->fault_key.empty()) fault = config_.faults(route->fault_key);
      const double draw = fault ? UniformUnit() : 1.0;
      if (fault && draw < fault->reset_rate) {
        ResetConnection(response);
        reply.status = 0;  // no answer: the connection was reset
        reply.already_sent = true;
      } else if (fault && draw < fault->reset_rate + fault->error_rate) {
        reply.status = fault->error_status;
        reply.body = SimpleErrorBody(fault->error_code, fault->error_message);
      } else {
        try {
          route->handler(request, params, response, reply);
        } catch (const std::exception& e) {
          LogError("unhandled error on {} {}: {}", MethodName(request.method()), route->path,
                   e.what());
          reply = Reply{};
          reply.status = 500;
          reply.body = SimpleErrorBody("unexpected", "Internal server error.");
        } catch (...) {
          LogError("unhandled non-standard exception on {} {}", MethodName(request.method()),
                   route->path);
          reply = Reply{};
          reply.status = 500;
          reply.body = SimpleErrorBody("unexpected", "Internal server error.");
        }
      }
      if (fault && fault->delay_max_ms > 0 && !reply.already_sent) {
        const uint32_t delay = UniformDelay(fault->delay_min_ms, fault->delay_max_ms);
        injected_delay = std::chrono::milliseconds(delay);
        reply.version = request.version();
        config_.deferred->SendAt(start + std::chrono::milliseconds(delay), std::move(response),
                                 reply);
        reply.already_sent = true;
      }
    }
  }
  if (!reply.already_sent) {
    reply.version = request.version();
    if (close_requested || lifecycle.draining()) {
      SendReplyAndClose(response, reply);
    } else {
      SendReply(response, reply);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start + injected_delay)
          .count();
  metrics_.HttpRequest(config_.kind, metric_route, MethodName(request.method()), reply.status,
                       seconds);
  if (config_.journal != nullptr && !preflight) {
    config_.journal->Record(config_.clock->NowMs(), MethodName(request.method()),
                            request.resource(), reply.status, seconds, reply.body, request.body());
  }
  if (config_.access_log != nullptr) {
    config_.access_log->Write(config_.name, MethodName(request.method()),
                              route != nullptr ? std::string_view(route->path) : "unmatched",
                              reply.status, seconds,
                              reply.status >= 400 ? ErrorCodeOf(reply.body) : std::string_view());
  }
  lifecycle.Leave();
}

HttpListener::HttpListener(const std::string& host, uint16_t port, int threads,
                           std::shared_ptr<const RouteTable> table)
    : table_(std::move(table)) {
  const ListenerConfig& config = table_->config();
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
  endpoint_->setHandler(std::make_shared<Handler>(table_));
}

HttpListener::~HttpListener() { Shutdown(); }

void HttpListener::Start() { endpoint_->serveThreaded(); }

void HttpListener::Shutdown() {
  if (endpoint_) endpoint_->shutdown();
}

uint16_t HttpListener::port() const { return static_cast<uint16_t>(endpoint_->getPort()); }

}  // namespace mfa
