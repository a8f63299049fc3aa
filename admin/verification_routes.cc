// SPDX-License-Identifier: Apache-2.0
// /admin/verifications (seed, generate, export, get, delete, delete all) and /admin/send.
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

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

// What the export writes: CSV (with a header line), NDJSON (one object a line; each line is also
// a verify body), or one JSON array (what k6's SharedArray and Gatling's jsonFile read).
enum class ExportFormat { kCsv, kNdjson, kJson };

std::string_view ContentType(ExportFormat format) {
  switch (format) {
    case ExportFormat::kCsv:
      return "text/csv; charset=utf-8";
    case ExportFormat::kNdjson:
      return "application/x-ndjson";
    case ExportFormat::kJson:
      return "application/json; charset=utf-8";
  }
  return "";
}

// The export's rows with what goes before, between and after them. Not thread-safe: one per
// export, used by the thread that writes its body.
class ExportWriter {
 public:
  explicit ExportWriter(ExportFormat format) : format_(format) {}

  void Row(std::string& out, std::string_view id, std::string_view code, IdentifierType type,
           std::string_view identifier) {
    Start(out);
    if (format_ == ExportFormat::kJson) out += rows_ == 0 ? "\n" : ",\n";
    ++rows_;
    if (format_ == ExportFormat::kCsv) {
      AppendCsvField(out, id);
      out += ',';
      AppendCsvField(out, code);
      out += ',';
      out += ToString(type);
      out += ',';
      AppendCsvField(out, identifier);
    } else {
      JsonWriter(out)
          .BeginObject()
          .String("verificationId", id)
          .String("code", code)
          .String("identifierType", ToString(type))
          .String("identifier", identifier)
          .EndObject();
    }
    if (format_ != ExportFormat::kJson) out += '\n';
  }

  // The header (CSV) or the opening bracket (JSON), once, before the first row or the end.
  void Start(std::string& out) {
    if (started_) return;
    started_ = true;
    if (format_ == ExportFormat::kCsv) out.append(kCsvHeader);
    if (format_ == ExportFormat::kJson) out += '[';
  }

  // After the last row. An export that failed midway is not finished: its JSON stays unclosed,
  // so that no parser takes it for the whole batch.
  void Finish(std::string& out) {
    Start(out);
    if (format_ == ExportFormat::kJson) out += "\n]\n";
  }

  ExportFormat format() const { return format_; }

 private:
  static constexpr std::string_view kCsvHeader = "verificationId,code,identifierType,identifier\n";
  const ExportFormat format_;
  bool started_ = false;
  size_t rows_ = 0;
};

// Threads for exports: an export streams for as long as its client reads (and, from a shared
// store, waits on the store page by page), which a request worker must never do. On its own
// thread the body goes out one chunk at a time, and the export ends when the client goes or
// stops reading (PistacheSink). At most `max` at once, each joined before the next start or at
// destruction. Thread-safe; mu_ guards the thread list.
class ExportRunner {
 public:
  explicit ExportRunner(size_t max) : max_(max) {}
  ~ExportRunner() {
    std::vector<Job> jobs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs.swap(jobs_);
    }
    for (Job& job : jobs) job.thread.join();
  }
  // Starts `work` on a thread of its own; false when `max` exports already run.
  bool Run(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->finished->load(std::memory_order_acquire)) {
        it->thread.join();
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
    if (jobs_.size() >= max_) return false;
    auto finished = std::make_shared<std::atomic<bool>>(false);
    jobs_.push_back(Job{std::thread([work = std::move(work), finished] {
                          work();
                          finished->store(true, std::memory_order_release);
                        }),
                        finished});
    return true;
  }

 private:
  struct Job {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  const size_t max_;
  std::mutex mu_;
  std::vector<Job> jobs_;  // GUARDED_BY(mu_)
};

// The rows of an export from a shared store, a page at a time; a store failure midway ends the
// body with one line that says so (the status was sent long before).
bool NextSharedRows(RecordPager& pager, ExportWriter& writer, std::string* out) {
  writer.Start(*out);
  std::vector<RecordSnapshot> rows;
  const bool more = pager.Next(512, &rows);
  for (const RecordSnapshot& r : rows) {
    writer.Row(*out, r.verification_id, r.code, r.identifier_type, r.identifier);
  }
  if (more) return true;
  if (pager.failure() == Outcome::kOk) {
    writer.Finish(*out);
    return false;
  }
  const HttpError& error = ErrorFor(pager.failure());
  if (writer.format() == ExportFormat::kCsv) {
    out->append("# export incomplete: ").append(error.code).append("\n");
  } else {
    if (writer.format() == ExportFormat::kJson) *out += '\n';
    JsonWriter(*out)
        .BeginObject()
        .String("code", error.code)
        .String("message", "Export incomplete: the store stopped answering.")
        .EndObject();
    *out += '\n';
  }
  return false;
}

// The rows of an export, produced from the store in slices of 512, one shard lock at a time.
class ExportRows {
 public:
  ExportRows(const VerificationStore& store, uint32_t batch, ExportFormat format)
      : store_(store), batch_(batch), writer_(format) {}

  // Appends the next slice to `out`; false once the last one is written.
  bool Next(std::string* out) {
    writer_.Start(*out);
    store_.Scan(cursor_, batch_, 512, [&](const RecordView& r) {
      writer_.Row(*out, r.verification_id, r.code, r.identifier_type, r.identifier);
    });
    if (!cursor_.done) return true;
    writer_.Finish(*out);
    return false;
  }

 private:
  const VerificationStore& store_;
  const uint32_t batch_;
  ExportWriter writer_;
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
  std::shared_ptr<ExportRunner> exports;
  bool shared_store;  // the records are in Redis, not in this process

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
    const std::string name = request.Query("format").value_or("csv");
    ExportFormat format;
    if (name == "csv") {
      format = ExportFormat::kCsv;
    } else if (name == "ndjson") {
      format = ExportFormat::kNdjson;
    } else if (name == "json") {
      format = ExportFormat::kJson;
    } else {
      return SetError(reply, ApiError::kInvalidRequest,
                      "format must be \"csv\", \"ndjson\" or \"json\".");
    }
    if (shared_store) return SharedExport(request, reply, format);
    uint32_t batch = 0;
    if (auto batch_id = request.Query("batch"); batch_id && !batch_id->empty()) {
      batch = service.store().FindBatch(*batch_id);
      if (batch == 0) return SetNotFound(reply, "batch", *batch_id);
    }
    auto rows = std::make_shared<ExportRows>(service.store(), batch, format);
    auto pending = std::make_shared<PendingAnswer>(request.Defer());
    StreamOnItsThread(*exports, pending, format,
                      [rows](std::string* chunk) { return rows->Next(chunk); });
  }

  // Completes `pending` with the streamed body, written on an export thread; 503 when the
  // node's exports at once already run.
  static void StreamOnItsThread(ExportRunner& runner, const std::shared_ptr<PendingAnswer>& pending,
                                ExportFormat format, std::function<bool(std::string*)> next) {
    const bool started = runner.Run([pending, format, next = std::move(next)] {
      Reply streamed;
      streamed.content_type = ContentType(format);
      streamed.stream = next;
      pending->Complete(std::move(streamed));
    });
    if (started) return;
    Reply busy;
    SetError(busy, ApiError::kTooManyExports);
    busy.headers.push_back({"Retry-After", "1"});
    pending->Complete(std::move(busy));
  }

  void SharedExport(const HttpRequest& request, Reply& reply, ExportFormat format) const {
    const std::string batch = request.Query("batch").value_or("");
    auto pending = std::make_shared<PendingAnswer>(request.Defer());
    using Answer = StoreAnswer<std::shared_ptr<RecordPager>>;
    codes.OpenPager(batch, [pending, batch, format, runner = exports](Answer opened) {
      Reply out;
      if (opened.outcome != Outcome::kOk) {
        SetError(out, opened.outcome);
        return pending->Complete(std::move(out));
      }
      if (!opened.value) {
        SetNotFound(out, "batch", batch);
        return pending->Complete(std::move(out));
      }
      auto writer = std::make_shared<ExportWriter>(format);
      StreamOnItsThread(*runner, pending, format,
                        [pager = opened.value, writer](std::string* chunk) {
                          return NextSharedRows(*pager, *writer, chunk);
                        });
    });
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
                                      metrics::Metrics& metrics, bool shared_store) {
  // Each export holds a thread for as long as its client reads. kTooManyExports's message says
  // "Four".
  constexpr size_t kExportsAtOnce = 4;
  const Handlers h{service, codes, metrics, std::make_shared<ExportRunner>(kExportsAtOnce),
                   shared_store};
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
