// SPDX-License-Identifier: Apache-2.0
// /admin/verifications (seed, generate, export, get, delete, delete all) and /admin/send.
#include <memory>

#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "http/answer_when_done.h"
#include "wire/json_util.h"

namespace mfa {
namespace {

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

// The rows of an export, produced from the store in slices of 512, one shard lock at a time.
class ExportRows {
 public:
  ExportRows(const VerificationStore& store, uint32_t batch, bool csv)
      : store_(store), batch_(batch), csv_(csv) {}

  // Appends the next slice to `out`; false once the last one is written.
  bool Next(std::string* out) {
    if (!header_written_) {
      header_written_ = true;
      if (csv_) *out += "verificationId,code,identifierType,identifier\n";
    }
    store_.Scan(cursor_, batch_, 512, [&](const RecordView& r) {
      if (csv_) {
        AppendCsvField(*out, r.verification_id);
        *out += ',';
        AppendCsvField(*out, r.code);
        *out += ',';
        *out += ToString(r.identifier_type);
        *out += ',';
        AppendCsvField(*out, r.identifier);
      } else {
        JsonWriter(*out)
            .BeginObject()
            .String("verificationId", r.verification_id)
            .String("code", r.code)
            .String("identifierType", ToString(r.identifier_type))
            .String("identifier", r.identifier)
            .EndObject();
      }
      *out += '\n';
    });
    return !cursor_.done;
  }

 private:
  const VerificationStore& store_;
  const uint32_t batch_;
  const bool csv_;
  bool header_written_ = false;
  ScanCursor cursor_;
};

void AnswerSeed(metrics::Metrics& metrics, size_t count, const SeedResult& result, Reply& reply) {
  if (result.outcome == Outcome::kInvalidInput) {  // a duplicate id (core/mfa_service.h)
    return SetError(reply, ApiError::kVerificationExists,
                    "Item " + std::to_string(result.failed_index) +
                        ": a verification with this verificationId already exists.");
  }
  if (result.outcome != Outcome::kOk) return SetError(reply, result.outcome);
  metrics.CodesSeeded(metrics::SeedSource::kAdmin, count);
  reply.status = 201;
  JsonWriter json(reply.body);
  json.BeginObject().Key("verifications").BeginArray();
  for (const SeededRecord& r : result.records) WriteSeeded(json, r);
  json.EndArray().EndObject();
}

struct Handlers {
  MfaService& service;
  CodeStore& codes;
  metrics::Metrics& metrics;

  void Seed(const HttpRequest& request, Reply& reply) const {
    std::vector<SeedItem> items;
    AdminParseError error;
    if (!ParseSeedItems(request.body, &items, &error)) return SetParseError(reply, error);
    const size_t count = items.size();
    AnswerWhenDone<SeedResult>(
        request, reply,
        [&](Done<SeedResult> done) { codes.Seed(std::move(items), std::move(done)); },
        [metrics = &metrics, count](Reply& out, const SeedResult& result) {
          AnswerSeed(*metrics, count, result, out);
        });
  }

  void DeleteAll(const HttpRequest& request, Reply& reply) const {
    AnswerWhenDone<StoreAnswer<size_t>>(
        request, reply, [&](Done<StoreAnswer<size_t>> done) { codes.Clear(std::move(done)); },
        [](Reply& out, const StoreAnswer<size_t>& deleted) {
          if (deleted.outcome != Outcome::kOk) return SetError(out, deleted.outcome);
          JsonWriter(out.body)
              .BeginObject()
              .Int("deleted", static_cast<int64_t>(deleted.value))
              .EndObject();
        });
  }

  void Generate(const HttpRequest& request, Reply& reply) const {
    GenerateSpec spec;
    AdminParseError error;
    if (!ParseGenerateSpec(request.body, &spec, &error)) return SetParseError(reply, error);
    AnswerWhenDone<GenerateResult>(
        request, reply, [&](Done<GenerateResult> done) { codes.Generate(spec, std::move(done)); },
        [metrics = &metrics](Reply& out, const GenerateResult& result) {
          if (result.outcome != Outcome::kOk) return SetError(out, result.outcome);
          metrics->CodesSeeded(metrics::SeedSource::kGenerate, result.created);
          out.status = 201;
          JsonWriter(out.body)
              .BeginObject()
              .Int("created", result.created)
              .String("batchId", result.batch_id)
              .EndObject();
        });
  }

  void Export(const HttpRequest& request, Reply& reply) const {
    const std::string format = request.Query("format").value_or("csv");
    if (format != "csv" && format != "ndjson") {
      return SetError(reply, ApiError::kInvalidRequest, "format must be \"csv\" or \"ndjson\".");
    }
    uint32_t batch = 0;
    if (auto batch_id = request.Query("batch"); batch_id && !batch_id->empty()) {
      batch = service.store().FindBatch(*batch_id);
      if (batch == 0) return SetNotFound(reply, "batch", *batch_id);
    }
    const bool csv = format == "csv";
    reply.content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
    auto rows = std::make_shared<ExportRows>(service.store(), batch, csv);
    reply.stream = [rows](std::string* chunk) { return rows->Next(chunk); };
  }

  void Get(const HttpRequest& request, Reply& reply) const {
    std::string id = request.DecodedId();
    using Answer = StoreAnswer<std::optional<RecordSnapshot>>;
    AnswerWhenDone<Answer>(
        request, reply, [&](Done<Answer> done) { codes.Get(id, std::move(done)); },
        [id](Reply& out, const Answer& record) {
          if (record.outcome != Outcome::kOk) return SetError(out, record.outcome);
          if (!record.value) return SetNotFound(out, "verification", id);
          JsonWriter json(out.body);
          WriteRecord(json, *record.value);
        });
  }

  void Delete(const HttpRequest& request, Reply& reply) const {
    std::string id = request.DecodedId();
    AnswerWhenDone<StoreAnswer<bool>>(
        request, reply, [&](Done<StoreAnswer<bool>> done) { codes.Erase(id, std::move(done)); },
        [id](Reply& out, const StoreAnswer<bool>& erased) {
          if (erased.outcome != Outcome::kOk) return SetError(out, erased.outcome);
          if (!erased.value) return SetNotFound(out, "verification", id);
          out.status = 204;
        });
  }

  void Send(const HttpRequest& request, Reply& reply) const {
    IdentifierType type;
    std::string identifier;
    AdminParseError error;
    if (!ParseAdminSend(request.body, &type, &identifier, &error)) {
      return SetParseError(reply, error);
    }
    AnswerWhenDone<SendResult>(
        request, reply,
        [&](Done<SendResult> done) { codes.AdminSend(type, identifier, std::move(done)); },
        [metrics = &metrics, type](Reply& out, const SendResult& result) {
          if (result.outcome != Outcome::kOk) return SetError(out, result.outcome);
          metrics->CodeSent(type, metrics::Via::kAdmin);
          out.status = 201;
          JsonWriter json(out.body);
          WriteSeeded(json, SeededRecord{result.verification_id, type, result.identifier,
                                         result.code, result.expires_ms});
        });
  }
};

}  // namespace

std::vector<Route> VerificationRoutes(MfaService& service, CodeStore& codes,
                                      metrics::Metrics& metrics) {
  const Handlers h{service, codes, metrics};
  return {
      {.method = Method::kPost,
       .path = "/admin/verifications",
       .handler = Bind(h, &Handlers::Seed),
       .success_status = 201},
      {.method = Method::kDelete,
       .path = "/admin/verifications",
       .handler = Bind(h, &Handlers::DeleteAll)},
      {.method = Method::kPost,
       .path = "/admin/verifications/generate",
       .handler = Bind(h, &Handlers::Generate),
       .success_status = 201},
      {.method = Method::kGet,
       .path = "/admin/verifications/export",
       .handler = Bind(h, &Handlers::Export)},
      {.method = Method::kGet,
       .path = "/admin/verifications/{id}",
       .handler = Bind(h, &Handlers::Get)},
      {.method = Method::kDelete,
       .path = "/admin/verifications/{id}",
       .handler = Bind(h, &Handlers::Delete),
       .success_status = 204},
      {.method = Method::kPost,
       .path = "/admin/send",
       .handler = Bind(h, &Handlers::Send),
       .success_status = 201},
  };
}

}  // namespace mfa
