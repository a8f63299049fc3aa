// SPDX-License-Identifier: Apache-2.0
// Screening of request header blocks as they arrive, before Pistache parses them: Pistache's
// header parsing is quadratic in the block's size, and it misreads some Content-Length values.
// No Pistache here: the transport feeds the chunks.
#pragma once

#include <cstddef>
#include <string_view>

namespace mfa {

// Header blocks past this size are refused.
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;

// The request headers the hot path reads, taken from the raw header block while it is screened:
// a lookup in Pistache's header map costs about a thousand instructions per header. Like
// Pistache, the first of repeated headers wins. The views point into the screened chunk.
struct RawHeaders {
  bool complete = false;  // the whole header block was in one chunk
  std::string_view content_type;
  std::string_view origin;
  std::string_view accept_language;
};

enum class HeaderScreen { kOk, kTooLarge, kBadContentLength };

// Where one connection is in its current request's header block. Not thread-safe (a
// connection's input is handled by one thread at a time).
class HeaderScreener {
 public:
  // Screens the next input chunk. Pipelining is unsupported, so a chunk that starts a request
  // starts with its request line. `raw` is filled (and marked complete) when the whole block
  // is in `chunk`.
  HeaderScreen Screen(std::string_view chunk, RawHeaders* raw);
  // The current request is complete: the next chunk starts a new one.
  void NextRequest();

 private:
  bool in_headers_ = true;
  size_t header_bytes_ = 0;
  char tail_[3] = {0, 0, 0};  // last bytes of the previous chunk, for a split "\r\n\r\n"
  size_t tail_len_ = 0;
};

// One pass over a complete header block (request line first). Pistache reads "26abc", "+26" or
// "26 26" as 26 and takes the first of two Content-Length headers: false unless every
// Content-Length line is plain digits and they all agree. Fills `raw` on the way.
bool ScanHeaderBlock(std::string_view headers, RawHeaders* raw);

}  // namespace mfa
