// SPDX-License-Identifier: Apache-2.0
// Saving and restoring the store and inbox across restarts (--snapshot FILE).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/inbox.h"
#include "core/verification_store.h"

namespace mfa {

// Version 2 adds the derived batches (and their key); version 1 files still load.
inline constexpr uint32_t kSnapshotVersion = 2;

struct SnapshotStats {
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t inbox_messages = 0;
  uint64_t bytes = 0;
};

// Writes the store (one shard lock at a time) and the inbox to `path` atomically: a temporary
// file in the same directory, fsync, rename, fsync of the directory. A crash at any point leaves
// either the previous file or the new one, never a partial file under `path`.
// Returns false with `error` set on I/O failure. Thread-safe with respect to serving.
bool WriteSnapshot(const std::string& path, const VerificationStore& store, const Inbox& inbox,
                   int64_t now_ms, SnapshotStats* stats, std::string* error);

// Deletes the temporary files WriteSnapshot leaves when its process dies mid-write (kill -9,
// power loss): `path`.tmp.PID where no process PID exists any more. A temp file of a live
// process is kept. Returns the names removed (empty if none or the directory is unreadable).
std::vector<std::string> RemoveStaleSnapshotTemps(const std::string& path);

enum class SnapshotLoad { kLoaded, kMissing, kCorrupt };

// Loads a snapshot into an EMPTY store and inbox (start-up, before serving). kMissing if the file
// does not exist; kCorrupt (with `error`: what and where) if it is truncated, has a bad checksum,
// an unknown version or inconsistent contents. After kCorrupt the store and inbox may hold part
// of the file: the caller clears them or stops.
SnapshotLoad LoadSnapshot(const std::string& path, VerificationStore* store, Inbox* inbox,
                          SnapshotStats* stats, std::string* error);

}  // namespace mfa
