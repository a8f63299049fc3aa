// SPDX-License-Identifier: Apache-2.0
// The bytes of a response, written by us rather than by Pistache's std::ostream formatting (about
// a fifth of the instructions of a whole verify). Pure: the transport sends what this returns.
#pragma once

#include <string>
#include <string_view>

#include "http/reply.h"
#include "http/request.h"

namespace mfa {

// Status line, Connection (Close or Keep-Alive), the reply's headers, one Set-Cookie line per
// cookie, Content-Type (none on 204 and 304), Content-Length, body (none on 204 and 304).
// `reason` is the status's reason phrase. REQUIRES: no CR or LF in header values.
std::string FormatResponse(HttpVersion version, int status, std::string_view reason,
                           const Reply& reply, bool close);

// The head of a streamed body: as FormatResponse without Content-Length, plus
// Transfer-Encoding: chunked on HTTP/1.1; HTTP/1.0 has no chunks, so the connection closes after
// the body (Connection: Close).
std::string FormatStreamHead(HttpVersion version, int status, std::string_view reason,
                             const Reply& reply, bool close);
// One piece of a streamed body as it goes on the wire: a chunk on HTTP/1.1 (the empty piece is the
// last chunk), the bytes themselves on HTTP/1.0.
std::string FrameChunk(HttpVersion version, std::string_view data);

// A Set-Cookie value as Pistache writes it: "name=value; Path=/; HttpOnly; SameSite=Lax".
std::string FormatSetCookie(const SetCookie& cookie);

}  // namespace mfa
