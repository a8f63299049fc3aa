// SPDX-License-Identifier: Apache-2.0
#include "http/header_screen.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace mfa {
namespace {

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

}  // namespace

bool ScanHeaderBlock(std::string_view headers, RawHeaders* raw) {
  std::string_view seen;
  bool have_content_type = false;
  bool have_origin = false;
  bool have_accept_language = false;
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
    } else if (!have_accept_language && EqualsIgnoreCase(name, "accept-language")) {
      have_accept_language = true;
      raw->accept_language = value;
    }
  }
  return true;
}

HeaderScreen HeaderScreener::Screen(std::string_view chunk, RawHeaders* raw) {
  if (!in_headers_) return HeaderScreen::kOk;
  const bool starts_request = header_bytes_ == 0;
  size_t end = chunk.find("\r\n\r\n");
  if (end == std::string_view::npos && tail_len_ > 0) {
    // The terminator may straddle the previous chunk and this one.
    const std::string joined = std::string(tail_, tail_len_) + std::string(chunk.substr(0, 3));
    if (joined.find("\r\n\r\n") != std::string::npos) end = 0;
  }
  if (end == std::string_view::npos) {
    header_bytes_ += chunk.size();
    if (header_bytes_ > kMaxHeaderBytes) return HeaderScreen::kTooLarge;
    tail_len_ = std::min<size_t>(3, chunk.size());
    std::memcpy(tail_, chunk.data() + chunk.size() - tail_len_, tail_len_);
    return HeaderScreen::kOk;
  }
  in_headers_ = false;
  if (header_bytes_ + end > kMaxHeaderBytes) return HeaderScreen::kTooLarge;
  // Values are checked when the whole block arrived in one chunk (the common case).
  if (starts_request) {
    if (!ScanHeaderBlock(chunk.substr(0, end + 2), raw)) return HeaderScreen::kBadContentLength;
    raw->complete = true;
  }
  return HeaderScreen::kOk;
}

void HeaderScreener::NextRequest() {
  in_headers_ = true;
  header_bytes_ = 0;
  tail_len_ = 0;
}

}  // namespace mfa
