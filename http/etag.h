// SPDX-License-Identifier: Apache-2.0
// Logto's ETag on GET /api answers (middleware/koa-body-etag.ts): the npm `etag` package's strong
// tag of the JSON body, and koa's `fresh` check of If-None-Match.
#pragma once

#include <string>
#include <string_view>

namespace mfa {

// "<byte length in hex>-<first 27 characters of base64(SHA-1(body))>", quoted. Thread-safe.
std::string EtagOf(std::string_view body);

// koa's ctx.fresh for a 2xx GET with tag `etag`: If-None-Match is "*" or lists the tag (weak or
// strong), and Cache-Control does not say no-cache.
bool IsFresh(std::string_view if_none_match, std::string_view cache_control, std::string_view etag);

}  // namespace mfa
