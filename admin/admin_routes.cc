#include "admin/admin_routes.h"

#include <cstdlib>

#include "admin/admin_parser.h"
#include "app/error_table.h"
#include "app/json_util.h"
#include "app/request_journal.h"

namespace mfa {

namespace Http = Pistache::Http;

extern const char kInboxPageHtml[];
extern const std::size_t kInboxPageHtml_size;
extern const char kOpenApiJson[];  // docs/openapi.yaml as JSON, embedded at build time
extern const std::size_t kOpenApiJson_size;

namespace {

constexpr std::string_view kCsvType = "text/csv; charset=utf-8";
constexpr std::string_view kNdjsonType = "application/x-ndjson";
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr size_t kMaxInboxLimit = 10000;

void SetError(Reply& reply, int status, std::string_view code, std::string_view message) {
  reply.status = status;
  reply.body = SimpleErrorBody(code, message);
}

void SetParseError(Reply& reply, const AdminParseError& error) {
  SetError(
      reply, 400,
      error.kind == AdminParseError::kInvalidJson ? "admin.invalid_json" : "admin.invalid_request",
      error.message);
}

void SetStoreFull(Reply& reply, const VerificationStore& store) {
  SetError(reply, 503, "admin.store_full",
           "The record store is full (--max-records " + std::to_string(store.max_records()) +
               "). Delete records or raise the cap.");
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::optional<std::string> QueryParam(const Http::Request& request, const std::string& name) {
  auto v = request.query().get(name);
  if (!v) return std::nullopt;
  return PercentDecode(*v);
}

void AppendSeeded(std::string& out, const std::string& id, IdentifierType type,
                  const std::string& identifier, const std::string& code, int64_t expires_ms) {
  out += "{\"verificationId\":";
  AppendJsonString(out, id);
  out += ",\"identifierType\":";
  AppendJsonString(out, ToString(type));
  out += ",\"identifier\":";
  AppendJsonString(out, identifier);
  out += ",\"code\":";
  AppendJsonString(out, code);
  out += ",\"expiresAt\":";
  AppendJsonString(out, FormatRfc3339(expires_ms));
  out += '}';
}

std::string RecordJson(const RecordSnapshot& r) {
  std::string out = "{\"verificationId\":";
  AppendJsonString(out, r.verification_id);
  out += ",\"identifierType\":";
  AppendJsonString(out, ToString(r.identifier_type));
  out += ",\"identifier\":";
  AppendJsonString(out, r.identifier);
  out += ",\"code\":";
  AppendJsonString(out, r.code);
  out += ",\"createdAt\":";
  AppendJsonString(out, FormatRfc3339(r.created_ms));
  out += ",\"expiresAt\":";
  AppendJsonString(out, FormatRfc3339(r.expires_ms));
  out += ",\"tryCount\":" + std::to_string(r.try_count);
  out += ",\"consumed\":";
  out += r.consumed ? "true" : "false";
  out += ",\"verified\":";
  out += r.verified ? "true" : "false";
  out += ",\"identified\":";
  out += r.identified ? "true" : "false";
  out += ",\"batchId\":";
  AppendJsonStringOrNull(out, r.batch_id);
  out += '}';
  return out;
}

// What became of a sent code, read from the store: pending, verified, expired, locked (no tries
// left) or gone (deleted, swept, or replaced by a newer send in its session).
std::string_view MessageState(MfaService& service, const InboxMessage& m) {
  auto record = service.store().Get(m.verification_id);
  if (!record) return "gone";
  if (record->verified) return "verified";
  if (service.clock().NowMs() > record->expires_ms) return "expired";
  if (record->try_count >= service.config().Get().config.max_attempts) return "locked";
  return "pending";
}

std::string MessageJson(const InboxMessage& m, std::string_view state) {
  std::string out = "{\"channel\":";
  AppendJsonString(out, ChannelName(m.type));
  out += ",\"to\":";
  AppendJsonString(out, m.to);
  out += ",\"code\":";
  AppendJsonString(out, m.code);
  out += ",\"verificationId\":";
  AppendJsonString(out, m.verification_id);
  out += ",\"template\":\"MfaVerification\",\"sentAt\":";
  AppendJsonString(out, FormatRfc3339(m.sent_ms));
  out += ",\"state\":";
  AppendJsonString(out, state);
  out += '}';
  return out;
}

// Parses the inbox filters; false sets a 400 on `reply`.
bool ReadInboxQuery(const Http::Request& request, InboxQuery* query, Reply& reply) {
  if (auto to = QueryParam(request, "to")) query->to = *to;
  if (auto channel = QueryParam(request, "channel")) {
    if (*channel == "email") {
      query->channel = IdentifierType::kEmail;
    } else if (*channel == "sms" || *channel == "phone") {
      query->channel = IdentifierType::kPhone;
    } else {
      SetError(reply, 400, "admin.invalid_request", "channel must be \"email\" or \"sms\".");
      return false;
    }
  }
  if (auto limit = QueryParam(request, "limit")) {
    char* end = nullptr;
    const long n = std::strtol(limit->c_str(), &end, 10);
    if (limit->empty() || *end != '\0' || n < 1 || n > static_cast<long>(kMaxInboxLimit)) {
      SetError(reply, 400, "admin.invalid_request", "limit must be an integer from 1 to 10000.");
      return false;
    }
    query->limit = static_cast<size_t>(n);
  }
  return true;
}

void AppendCsvField(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void Export(MfaService& service, const Http::Request& request, Http::ResponseWriter& writer,
            Reply& reply) {
  VerificationStore& store = service.store();
  const std::string format = QueryParam(request, "format").value_or("csv");
  if (format != "csv" && format != "ndjson") {
    SetError(reply, 400, "admin.invalid_request", "format must be \"csv\" or \"ndjson\".");
    return;
  }
  uint32_t batch = 0;
  if (auto batch_id = QueryParam(request, "batch"); batch_id && !batch_id->empty()) {
    batch = store.FindBatch(*batch_id);
    if (batch == 0) {
      SetError(reply, 404, "admin.not_found", "No batch with id \"" + *batch_id + "\".");
      return;
    }
  }
  const bool csv = format == "csv";
  writer.headers().add<Http::Header::ContentType>(
      Http::Mime::MediaType::fromString(std::string(csv ? kCsvType : kNdjsonType)));
  auto stream = writer.stream(Http::Code::Ok);
  std::string chunk;
  chunk.reserve(70 * 1024);
  if (csv) chunk += "verificationId,code,identifierType,identifier\n";
  ScanCursor cursor;
  // Rows are produced from the store in slices, one shard lock at a time, and flushed in
  // ~64 KiB chunks: the export is never built whole in memory.
  while (!cursor.done) {
    store.Scan(cursor, batch, 512, [&](const RecordView& r) {
      if (csv) {
        AppendCsvField(chunk, r.verification_id);
        chunk += ',';
        AppendCsvField(chunk, r.code);
        chunk += ',';
        chunk += ToString(r.identifier_type);
        chunk += ',';
        AppendCsvField(chunk, r.identifier);
        chunk += '\n';
      } else {
        chunk += "{\"verificationId\":";
        AppendJsonString(chunk, r.verification_id);
        chunk += ",\"code\":";
        AppendJsonString(chunk, r.code);
        chunk += ",\"identifierType\":";
        AppendJsonString(chunk, ToString(r.identifier_type));
        chunk += ",\"identifier\":";
        AppendJsonString(chunk, r.identifier);
        chunk += "}\n";
      }
    });
    if (chunk.size() >= 64 * 1024 || (cursor.done && !chunk.empty())) {
      stream.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      stream.flush();
      chunk.clear();
    }
  }
  stream.ends();
  reply.status = 200;
  reply.already_sent = true;
}

}  // namespace

std::vector<Route> AdminRoutes(const AdminDeps& deps) {
  MfaService& service = deps.service;
  metrics::Metrics& metrics = deps.metrics;
  OffsetClock& clock = deps.clock;
  std::vector<Route> routes;
  auto add = [&routes](Http::Method method, std::string path, RouteHandler handler,
                       bool auth = true) {
    // The status each route answers on success, declared so its series starts at 0.
    static const std::pair<std::string_view, int> kSuccess[] = {
        {"POST /admin/verifications", 201},
        {"POST /admin/verifications/generate", 201},
        {"DELETE /admin/verifications/{id}", 204},
        {"POST /admin/send", 201},
        {"DELETE /admin/inbox", 204},
        {"POST /admin/users", 201},
        {"DELETE /admin/users/{id}", 204},
        {"POST /admin/sessions", 201},
        {"DELETE /admin/requests", 204}};
    int success = 200;
    const std::string key = std::string(MethodName(method)) + " " + path;
    for (const auto& [name, status] : kSuccess) {
      if (name == key) success = status;
    }
    routes.push_back(Route{method, std::move(path), std::move(handler), auth, 0, success});
  };

  for (const char* path : {"/", "/ui"}) {
    add(
        Http::Method::Get, path,
        [](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
          reply.content_type = "text/html; charset=utf-8";
          reply.body.assign(kInboxPageHtml, kInboxPageHtml_size);
        },
        /*auth=*/false);  // the page itself holds no data; its API calls carry the token
  }
  add(
      Http::Method::Get, "/openapi.json",
      [](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        reply.body.assign(kOpenApiJson, kOpenApiJson_size);  // application/json by default
      },
      /*auth=*/false);  // the API description, no data
  add(
      Http::Method::Get, "/healthz",
      [](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        reply.body = "{\"status\":\"ok\"}";
      },
      /*auth=*/false);

  add(Http::Method::Post, "/admin/verifications",
      [&service, &metrics](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                           Reply& reply) {
        std::vector<SeedItem> items;
        AdminParseError error;
        if (!ParseSeedItems(request.body(), &items, &error)) return SetParseError(reply, error);
        const size_t count = items.size();
        SeedResult result = service.Seed(std::move(items));
        if (result.outcome == Outcome::kStoreFull) return SetStoreFull(reply, service.store());
        if (result.outcome != Outcome::kOk) {
          return SetError(reply, 409, "admin.verification_exists",
                          "Item " + std::to_string(result.failed_index) +
                              ": a verification with this verificationId already exists.");
        }
        metrics.CodesSeeded(metrics::SeedSource::kAdmin, count);
        reply.status = 201;
        reply.body = "{\"verifications\":[";
        for (size_t i = 0; i < result.records.size(); ++i) {
          const SeededRecord& r = result.records[i];
          if (i > 0) reply.body += ',';
          AppendSeeded(reply.body, r.verification_id, r.type, r.identifier, r.code, r.expires_ms);
        }
        reply.body += "]}";
      });

  add(Http::Method::Delete, "/admin/verifications",
      [&service](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        const size_t deleted = service.store().Clear();
        service.ResetLimits();
        reply.body = "{\"deleted\":" + std::to_string(deleted) + "}";
      });

  add(Http::Method::Post, "/admin/verifications/generate",
      [&service, &metrics](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                           Reply& reply) {
        GenerateSpec spec;
        AdminParseError error;
        if (!ParseGenerateSpec(request.body(), &spec, &error)) return SetParseError(reply, error);
        const GenerateResult result = service.Generate(spec);
        if (result.outcome == Outcome::kStoreFull) return SetStoreFull(reply, service.store());
        metrics.CodesSeeded(metrics::SeedSource::kGenerate, result.created);
        reply.status = 201;
        reply.body = "{\"created\":" + std::to_string(result.created) + ",\"batchId\":";
        AppendJsonString(reply.body, result.batch_id);
        reply.body += '}';
      });

  add(Http::Method::Get, "/admin/verifications/export",
      [&service](const Http::Request& request, const PathParams&, Http::ResponseWriter& writer,
                 Reply& reply) { Export(service, request, writer, reply); });

  add(Http::Method::Get, "/admin/verifications/{id}",
      [&service](const Http::Request&, const PathParams& params, Http::ResponseWriter&,
                 Reply& reply) {
        auto record = service.store().Get(PercentDecode(params.id));
        if (!record) {
          return SetError(reply, 404, "admin.not_found",
                          "No verification with id \"" + PercentDecode(params.id) + "\".");
        }
        reply.body = RecordJson(*record);
      });

  add(Http::Method::Delete, "/admin/verifications/{id}",
      [&service](const Http::Request&, const PathParams& params, Http::ResponseWriter&,
                 Reply& reply) {
        if (!service.store().Erase(PercentDecode(params.id))) {
          return SetError(reply, 404, "admin.not_found",
                          "No verification with id \"" + PercentDecode(params.id) + "\".");
        }
        reply.status = 204;
        reply.body.clear();
      });

  add(Http::Method::Post, "/admin/send",
      [&service, &metrics](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                           Reply& reply) {
        IdentifierType type;
        std::string identifier;
        AdminParseError error;
        if (!ParseAdminSend(request.body(), &type, &identifier, &error)) {
          return SetParseError(reply, error);
        }
        const SendResult result = service.AdminSend(type, identifier);
        if (result.outcome == Outcome::kStoreFull) return SetStoreFull(reply, service.store());
        metrics.CodeSent(type, metrics::Via::kAdmin);
        reply.status = 201;
        reply.body.clear();
        AppendSeeded(reply.body, result.verification_id, type, result.identifier, result.code,
                     result.expires_ms);
      });

  add(Http::Method::Get, "/admin/inbox",
      [&service](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                 Reply& reply) {
        InboxQuery query;
        if (!ReadInboxQuery(request, &query, reply)) return;
        reply.body = "{\"messages\":[";
        bool first = true;
        for (const InboxMessage& m : service.inbox().List(query)) {
          if (!first) reply.body += ',';
          first = false;
          reply.body += MessageJson(m, MessageState(service, m));
        }
        reply.body += "]}";
      });

  add(Http::Method::Get, "/admin/inbox/latest",
      [&service](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                 Reply& reply) {
        InboxQuery query;
        if (!ReadInboxQuery(request, &query, reply)) return;
        query.limit = 1;
        auto messages = service.inbox().List(query);
        if (messages.empty()) {
          return SetError(
              reply, 404, "admin.not_found",
              query.to.empty() ? "The inbox is empty." : "No message to \"" + query.to + "\".");
        }
        reply.body = MessageJson(messages.front(), MessageState(service, messages.front()));
      });

  add(Http::Method::Delete, "/admin/inbox",
      [&service](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        service.inbox().Clear();
        reply.status = 204;
      });

  add(Http::Method::Get, "/admin/config",
      [&service](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        reply.body = ConfigToJson(service.config().Get().config);
      });

  add(Http::Method::Patch, "/admin/config",
      [&service](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                 Reply& reply) {
        // Read-modify-write under one lock so concurrent PATCHes do not lose each other.
        static std::mutex patch_mu;
        std::lock_guard<std::mutex> lock(patch_mu);
        Config config = service.config().Snapshot()->config;
        AdminParseError error;
        if (!ApplyConfigPatch(request.body(), &config, &error)) return SetParseError(reply, error);
        service.config().Replace(config);
        reply.body = ConfigToJson(config);
      });

  add(Http::Method::Get, "/admin/stats",
      [&service](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        const VerificationStore& store = service.store();
        reply.body = "{\"records\":" + std::to_string(store.size()) +
                     ",\"shards\":" + std::to_string(store.shard_count()) +
                     ",\"maxRecords\":" + std::to_string(store.max_records()) +
                     ",\"expiredSwept\":" + std::to_string(store.swept_total()) +
                     ",\"inboxMessages\":" + std::to_string(service.inbox().size()) +
                     ",\"inboxCapacity\":" + std::to_string(service.inbox().capacity()) + "}";
      });

  add(Http::Method::Get, "/admin/clock",
      [&clock](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        reply.body = "{\"now\":";
        AppendJsonString(reply.body, FormatRfc3339(clock.NowMs()));
        reply.body += ",\"offsetSeconds\":" + std::to_string(clock.offset_ms() / 1000) + "}";
      });

  add(Http::Method::Post, "/admin/clock/advance",
      [&clock](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
               Reply& reply) {
        int64_t seconds;
        AdminParseError error;
        if (!ParseClockAdvance(request.body(), &seconds, &error)) {
          return SetParseError(reply, error);
        }
        clock.AdvanceMs(seconds * 1000);
        reply.body = "{\"now\":";
        AppendJsonString(reply.body, FormatRfc3339(clock.NowMs()));
        reply.body += ",\"offsetSeconds\":" + std::to_string(clock.offset_ms() / 1000) + "}";
      });

  SessionService& sessions = deps.sessions;
  add(Http::Method::Post, "/admin/users",
      [&sessions](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                  Reply& reply) {
        User user;
        AdminParseError error;
        if (!ParseUser(request.body(), &user, &error)) return SetParseError(reply, error);
        if (!sessions.users().Add(user)) {
          return SetError(reply, 409, "admin.user_exists",
                          "A user with id \"" + user.id + "\" already exists.");
        }
        reply.status = 201;
        reply.body = UserToJson(user);
      });
  add(Http::Method::Get, "/admin/users",
      [&sessions](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        reply.body = "{\"users\":[";
        bool first = true;
        for (const User& u : sessions.users().List()) {
          if (!first) reply.body += ',';
          first = false;
          reply.body += UserToJson(u);
        }
        reply.body += "]}";
      });
  add(Http::Method::Get, "/admin/users/{id}",
      [&sessions](const Http::Request&, const PathParams& params, Http::ResponseWriter&,
                  Reply& reply) {
        auto user = sessions.users().Get(PercentDecode(params.id));
        if (!user) {
          return SetError(reply, 404, "admin.not_found",
                          "No user with id \"" + PercentDecode(params.id) + "\".");
        }
        reply.body = UserToJson(*user);
      });
  add(Http::Method::Delete, "/admin/users/{id}",
      [&sessions](const Http::Request&, const PathParams& params, Http::ResponseWriter&,
                  Reply& reply) {
        if (!sessions.users().Remove(PercentDecode(params.id))) {
          return SetError(reply, 404, "admin.not_found",
                          "No user with id \"" + PercentDecode(params.id) + "\".");
        }
        reply.status = 204;
      });
  add(Http::Method::Post, "/admin/sessions",
      [&sessions](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                  Reply& reply) {
        std::string user_id;
        InteractionEvent event = InteractionEvent::kSignIn;
        bool start = true;
        AdminParseError error;
        if (!ParseCreateSession(request.body(), &user_id, &event, &start, &error)) {
          return SetParseError(reply, error);
        }
        if (!user_id.empty() && !sessions.users().Get(user_id)) {
          return SetError(reply, 404, "admin.not_found", "No user with id \"" + user_id + "\".");
        }
        const Session s = sessions.CreateSession(user_id, start, event);
        reply.status = 201;
        reply.body = "{\"sessionId\":";
        AppendJsonString(reply.body, s.id);
        reply.body += ",\"cookie\":";
        AppendJsonString(reply.body, std::string("_interaction=") + s.id);
        reply.body += '}';
      });
  add(Http::Method::Get, "/admin/sessions/{id}",
      [&sessions](const Http::Request&, const PathParams& params, Http::ResponseWriter&,
                  Reply& reply) {
        const std::string id = PercentDecode(params.id);
        auto view = sessions.View(id);
        auto session = sessions.sessions().Get(id, sessions.NowMs());
        if (!view || !session) {
          return SetError(reply, 404, "admin.not_found", "No live session \"" + id + "\".");
        }
        reply.body = "{\"sessionId\":";
        AppendJsonString(reply.body, id);
        reply.body += ",\"interactionStarted\":";
        reply.body += session->interaction_started ? "true" : "false";
        reply.body += ",\"interactionEvent\":";
        AppendJsonString(reply.body, ToString(view->event));
        reply.body += ",\"userId\":";
        AppendJsonStringOrNull(reply.body, view->user_id);
        reply.body += ",\"expiresAt\":";
        AppendJsonString(reply.body, FormatRfc3339(session->expires_ms));
        reply.body += ",\"verificationIds\":[";
        bool first = true;
        for (const InteractionRecordView& r : view->records) {
          if (!first) reply.body += ',';
          first = false;
          AppendJsonString(reply.body, r.id);
        }
        reply.body += "]}";
      });
  add(Http::Method::Post, "/admin/sessions/{id}/identify",
      [&sessions](const Http::Request& request, const PathParams& params, Http::ResponseWriter&,
                  Reply& reply) {
        std::string user_id;
        AdminParseError error;
        if (!ParseIdentify(request.body(), &user_id, &error)) return SetParseError(reply, error);
        const std::string id = PercentDecode(params.id);
        switch (sessions.Identify(id, user_id)) {
          case Outcome::kOk:
            reply.body = "{\"sessionId\":";
            AppendJsonString(reply.body, id);
            reply.body += ",\"userId\":";
            AppendJsonString(reply.body, user_id);
            reply.body += '}';
            return;
          case Outcome::kIdentifierNotFound:
            return SetError(reply, 404, "admin.not_found", "No user with id \"" + user_id + "\".");
          default:
            return SetError(reply, 404, "admin.not_found", "No live session \"" + id + "\".");
        }
      });
  add(Http::Method::Delete, "/admin/sessions",
      [&sessions](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        const size_t n = sessions.sessions().size();
        sessions.sessions().Clear();
        sessions.sentinel().Clear();
        reply.body = "{\"deleted\":" + std::to_string(n) + "}";
      });

  RequestJournal* journal = deps.journal;
  add(Http::Method::Get, "/admin/requests",
      [journal](const Http::Request& request, const PathParams&, Http::ResponseWriter&,
                Reply& reply) {
        size_t limit = 100;
        int status = 0;
        if (auto v = QueryParam(request, "limit")) {
          char* end = nullptr;
          const long n = std::strtol(v->c_str(), &end, 10);
          if (v->empty() || *end != '\0' || n < 1 || n > 1'000'000) {
            return SetError(reply, 400, "admin.invalid_request",
                            "limit must be an integer from 1 to 1000000.");
          }
          limit = static_cast<size_t>(n);
        }
        if (auto v = QueryParam(request, "status")) {
          char* end = nullptr;
          const long n = std::strtol(v->c_str(), &end, 10);
          if (v->empty() || *end != '\0' || n < 100 || n > 599) {
            return SetError(reply, 400, "admin.invalid_request",
                            "status must be an HTTP status from 100 to 599.");
          }
          status = static_cast<int>(n);
        }
        reply.body = "{\"enabled\":";
        reply.body += journal != nullptr ? "true" : "false";
        reply.body += ",\"requests\":[";
        if (journal != nullptr) {
          bool first = true;
          for (const JournalEntry& e : journal->List(limit, status)) {
            if (!first) reply.body += ',';
            first = false;
            reply.body += "{\"time\":";
            AppendJsonString(reply.body, FormatRfc3339(e.time_ms));
            reply.body += ",\"method\":";
            AppendJsonString(reply.body, e.method);
            reply.body += ",\"path\":";
            AppendJsonString(reply.body, e.path);
            reply.body += ",\"status\":" + std::to_string(e.status);
            reply.body += ",\"durationMs\":" + std::to_string(e.duration_seconds * 1000.0);
            reply.body += ",\"errorCode\":";
            AppendJsonStringOrNull(reply.body, e.error_code);
            reply.body += ",\"body\":";
            AppendJsonString(reply.body, e.body);
            reply.body += '}';
          }
        }
        reply.body += "]}";
      });
  add(Http::Method::Delete, "/admin/requests",
      [journal](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        if (journal != nullptr) journal->Clear();
        reply.status = 204;
      });

  add(Http::Method::Delete, "/admin/clock",
      [&clock](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        clock.Reset();
        reply.body = "{\"now\":";
        AppendJsonString(reply.body, FormatRfc3339(clock.NowMs()));
        reply.body += ",\"offsetSeconds\":0}";
      });

  if (deps.serve_metrics) {
    for (Route& r : MetricsRoutes(metrics)) {
      r.requires_admin_token = deps.metrics_require_token;
      routes.push_back(std::move(r));
    }
  }
  return routes;
}

std::vector<Route> MetricsRoutes(metrics::Metrics& metrics) {
  std::vector<Route> routes;
  routes.push_back(Route{
      Http::Method::Get, "/metrics",
      [&metrics](const Http::Request&, const PathParams&, Http::ResponseWriter&, Reply& reply) {
        reply.content_type = kMetricsType;
        reply.body = metrics.Render();
      },
      false, 0});
  return routes;
}

}  // namespace mfa
