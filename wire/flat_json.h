// SPDX-License-Identifier: Apache-2.0
// A one-pass reader for the shape nearly every public request body has: a JSON object whose
// members are all short strings of printable ASCII without escapes. It exists for speed (the
// verify route is what load tests hammer); it never decides an answer on its own. Any other
// shape is refused, and the caller falls back to the full RapidJSON parse, so no answer depends
// on which path ran.
#pragma once

#include <cstddef>
#include <string_view>

namespace mfa {

struct FlatMember {
  std::string_view key;    // the bytes between the quotes (no escapes, so also the decoded key)
  std::string_view value;  // likewise
};

// Reads `text` as `{ "k": "v", ... }` with JSON whitespace anywhere JSON allows it. Returns the
// number of members written to `members` (at most `capacity`), or -1 when `text` is not exactly
// such an object: any other value type, an escape, a byte outside 0x20-0x7E inside a string,
// an empty object, more than `capacity` members, or anything after the closing brace.
// The views point into `text`. Thread-safe (no state).
int ScanFlatStringObject(std::string_view text, FlatMember* members, int capacity);

}  // namespace mfa
