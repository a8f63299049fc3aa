// SPDX-License-Identifier: Apache-2.0
// The inbox page, the OpenAPI document and the health check: open even with an admin token (the
// page holds no data, its API calls carry the token; the others hold none either).
#include "admin/admin_routes.h"
#include "wire/json_writer.h"

namespace mfa {

extern const char kInboxPageHtml[];
extern const std::size_t kInboxPageHtml_size;
extern const char kOpenApiJson[];  // docs/openapi.yaml as JSON, embedded at build time
extern const std::size_t kOpenApiJson_size;

namespace {

void InboxPage(const HttpRequest&, Reply& reply) {
  reply.content_type = "text/html; charset=utf-8";
  reply.body.assign(kInboxPageHtml, kInboxPageHtml_size);
}

void OpenApi(const HttpRequest&, Reply& reply) {
  reply.body.assign(kOpenApiJson, kOpenApiJson_size);
}

void Health(const HttpRequest&, Reply& reply) { reply.body = "{\"status\":\"ok\"}"; }

// Alive (/healthz) is not ready: with a shared store, a node answers 503 here until its store
// answers, and during any later outage, so a load balancer sends it no traffic meanwhile.
void Ready(const CodeStore& codes, const ControlPlane* control, Reply& reply) {
  // With a shared store, ready also means the deployment's settings are applied here.
  if (!codes.Ready() || (control != nullptr && control->applied_version() == 0)) {
    return SetError(reply, Outcome::kStoreUnavailable);
  }
  JsonWriter(reply.body)
      .BeginObject()
      .String("status", "ready")
      .String("store", codes.Describe())
      .EndObject();
}

}  // namespace

std::vector<Route> PageRoutes(CodeStore& codes, const ControlPlane* control) {
  return {
      {.method = Method::kGet, .path = "/", .handler = InboxPage, .access = Access::kOpen},
      {.method = Method::kGet, .path = "/ui", .handler = InboxPage, .access = Access::kOpen},
      {.method = Method::kGet,
       .path = "/openapi.json",
       .handler = OpenApi,
       .access = Access::kOpen},
      {.method = Method::kGet, .path = "/healthz", .handler = Health, .access = Access::kOpen},
      {.method = Method::kGet,
       .path = "/readyz",
       .handler = [&codes, control](const HttpRequest&,
                                    Reply& reply) { Ready(codes, control, reply); },
       .access = Access::kOpen},
  };
}

}  // namespace mfa
