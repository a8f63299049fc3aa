// SPDX-License-Identifier: Apache-2.0
#include "wire/flat_json.h"

namespace mfa {
namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Bytes a plain string may hold as they are: printable ASCII except '"' and '\\'.
struct PlainByteTable {
  bool plain[256] = {};
  constexpr PlainByteTable() {
    for (int c = 0x20; c <= 0x7e; ++c) plain[c] = c != '"' && c != '\\';
  }
};
constexpr PlainByteTable kPlainBytes;

// A string starting at text[*pos] (which must be '"'); on success *pos is past the closing quote.
bool ScanPlainString(std::string_view text, size_t* pos, std::string_view* out) {
  size_t i = *pos;
  if (i >= text.size() || text[i] != '"') return false;
  const size_t start = ++i;
  while (i < text.size() && kPlainBytes.plain[static_cast<unsigned char>(text[i])]) ++i;
  if (i >= text.size() || text[i] != '"') return false;  // unterminated, or a byte not plain
  *out = text.substr(start, i - start);
  *pos = i + 1;
  return true;
}

}  // namespace

int ScanFlatStringObject(std::string_view text, FlatMember* members, int capacity) {
  size_t i = 0;
  const size_t n = text.size();
  auto skip_space = [&] {
    while (i < n && IsJsonSpace(text[i])) ++i;
  };
  skip_space();
  if (i >= n || text[i] != '{') return -1;
  ++i;
  int count = 0;
  for (;;) {
    skip_space();
    if (count == capacity) return -1;
    FlatMember& member = members[count];
    if (!ScanPlainString(text, &i, &member.key)) return -1;  // also refuses "{}"
    skip_space();
    if (i >= n || text[i] != ':') return -1;
    ++i;
    skip_space();
    if (!ScanPlainString(text, &i, &member.value)) return -1;
    ++count;
    skip_space();
    if (i >= n) return -1;
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] != '}') return -1;
    ++i;
    break;
  }
  skip_space();
  return i == n ? count : -1;
}

}  // namespace mfa
