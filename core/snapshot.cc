// SPDX-License-Identifier: Apache-2.0
#include "core/snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace mfa {
namespace {

// File layout (little-endian), documented in docs/reliability.md:
//   header  : "MFASNAP\n" u32 version u32 reserved i64 written_at_ms
//   key     : 16 bytes, the derived batches' AES key (version 2)
//   batches : u32 n, n x { str16 id, u8 type, str16 pattern }
//   derived : u32 n, n x { u32 handle, u64 serial, u32 count, i64 created_ms, u32 ttl_s,
//                          str8 fixed_code, state runs: { u32 zero words, u32 m, m x u32 word }
//                          until count words are covered }                         (version 2)
//   records : u64 n, n x { str8 id, str8 code, u8 flags, u16 tries, i64 created_ms, u32 ttl_s,
//                          u32 consumed_after_s, u8 kind, kind 0: str16 identifier,
//                          kind 1: u32 batch u32 seq }
//   inbox   : u32 n, n x { u8 type, str16 to, str8 code, str8 id, i64 sent_ms } oldest first
//   trailer : u32 crc32 of every byte before it, "MFAEND!\n"
constexpr char kMagic[8] = {'M', 'F', 'A', 'S', 'N', 'A', 'P', '\n'};
constexpr char kEndMagic[8] = {'M', 'F', 'A', 'E', 'N', 'D', '!', '\n'};

class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) { buffer_.reserve(1 << 20); }
  void Bytes(const void* p, size_t n) {
    if (n == 0) return;  // crc32() of a null buffer would restart the checksum
    crc_ = crc32(crc_, static_cast<const Bytef*>(p), static_cast<uInt>(n));
    const char* c = static_cast<const char*>(p);
    buffer_.insert(buffer_.end(), c, c + n);
    if (buffer_.size() >= (1 << 20)) Flush();
  }
  template <typename T>
  void Int(T v) {
    Bytes(&v, sizeof(v));
  }
  void Str8(std::string_view s) {
    Int<uint8_t>(static_cast<uint8_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  void Str16(std::string_view s) {
    Int<uint16_t>(static_cast<uint16_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) {  // not covered by the checksum
    const char* c = static_cast<const char*>(p);
    buffer_.insert(buffer_.end(), c, c + n);
  }
  bool Flush() {
    size_t off = 0;
    while (off < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        ok_ = false;
        break;
      }
      off += static_cast<size_t>(n);
    }
    written_ += off;
    buffer_.clear();
    return ok_;
  }
  uint32_t crc() const { return static_cast<uint32_t>(crc_); }
  bool ok() const { return ok_; }
  uint64_t written() const { return written_; }

 private:
  int fd_;
  std::vector<char> buffer_;
  uLong crc_ = crc32(0, nullptr, 0);
  bool ok_ = true;
  uint64_t written_ = 0;
};

class Reader {
 public:
  explicit Reader(std::FILE* f) : f_(f) {}
  bool Bytes(void* p, size_t n) {
    if (n == 0) return true;
    if (fread_unlocked(p, 1, n, f_) != n) return false;
    crc_ = crc32(crc_, static_cast<const Bytef*>(p), static_cast<uInt>(n));
    offset_ += n;
    return true;
  }
  template <typename T>
  bool Int(T* v) {
    return Bytes(v, sizeof(*v));
  }
  bool Str8(std::string* s) {
    uint8_t n;
    if (!Int(&n)) return false;
    s->resize(n);
    return Bytes(s->data(), n);
  }
  bool Str16(std::string* s) {
    uint16_t n;
    if (!Int(&n)) return false;
    s->resize(n);
    return Bytes(s->data(), n);
  }
  bool Raw(void* p, size_t n) { return std::fread(p, 1, n, f_) == n; }
  uint32_t crc() const { return static_cast<uint32_t>(crc_); }
  uint64_t offset() const { return offset_; }
  bool AtEof() {
    const int c = std::fgetc(f_);
    if (c == EOF) return true;
    std::ungetc(c, f_);
    return false;
  }

 private:
  std::FILE* f_;
  uLong crc_ = crc32(0, nullptr, 0);
  uint64_t offset_ = 0;
};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::vector<std::string> RemoveStaleSnapshotTemps(const std::string& path) {
  std::vector<std::string> removed;
  const std::string dir = DirectoryOf(path);
  const size_t slash = path.rfind('/');
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return removed;
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.size() > 9 || pid_text.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    // Our own pid cannot have written a temp file yet: one with it is from an earlier process.
    const bool dead = pid != ::getpid() ? (::kill(pid, 0) != 0 && errno == ESRCH) : true;
    if (!dead) continue;
    const std::string full = dir + "/" + name;
    if (::unlink(full.c_str()) == 0) removed.push_back(full);
  }
  ::closedir(d);
  return removed;
}

bool WriteSnapshot(const std::string& path, const VerificationStore& store, const Inbox& inbox,
                   int64_t now_ms, SnapshotStats* stats, std::string* error) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = Errno("cannot create " + temp);
    return false;
  }
  Writer w(fd);
  w.Bytes(kMagic, sizeof(kMagic));
  w.Int<uint32_t>(kSnapshotVersion);
  w.Int<uint32_t>(0);
  w.Int<int64_t>(now_ms);

  // The record count is only known once the scan ends (records come and go while serving), so
  // records are encoded into memory slice by slice (one shard lock at a time) and written after
  // their count. For 10M records this buffer is ~500 MB and lives only during the write.
  std::vector<char> records;
  uint64_t record_count = 0;
  auto put = [&records](const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    records.insert(records.end(), c, c + n);
  };
  ScanCursor cursor;
  while (!cursor.done) {
    store.ScanStored(cursor, 0, 4096, [&](const RecordView& v) {
      const Record& r = *v.record;
      const uint8_t id_len = static_cast<uint8_t>(v.verification_id.size());
      put(&id_len, 1);
      put(v.verification_id.data(), id_len);
      const uint8_t code_len = static_cast<uint8_t>(v.code.size());
      put(&code_len, 1);
      put(v.code.data(), code_len);
      const uint8_t flags = static_cast<uint8_t>(r.flags & ~Record::kLive);
      put(&flags, 1);
      put(&r.try_count, sizeof(r.try_count));
      put(&r.created_ms, sizeof(r.created_ms));
      put(&r.ttl_seconds, sizeof(r.ttl_seconds));
      put(&r.consumed_after_seconds, sizeof(r.consumed_after_seconds));
      const uint8_t kind = r.identifier.IsGenerated() ? 1 : 0;
      put(&kind, 1);
      if (kind == 0) {
        const std::string_view ident = r.identifier.SharedView();
        const uint16_t len = static_cast<uint16_t>(ident.size());
        put(&len, 2);
        put(ident.data(), len);
      } else {
        const uint32_t batch = r.identifier.batch(), seq = r.identifier.seq();
        put(&batch, 4);
        put(&seq, 4);
      }
      ++record_count;
    });
  }
  // Batches are read after the scan and the derived batches: a record or a derived batch can
  // only name a batch registered before, so this list covers all of them (it is append-only).
  const std::vector<std::shared_ptr<const DerivedBatch>> derived = store.DerivedBatches();
  const std::vector<Batch> batches = store.Batches();
  w.Bytes(store.cipher().key().data(), kDerivedKeyBytes);
  w.Int<uint32_t>(static_cast<uint32_t>(batches.size()));
  for (const Batch& b : batches) {
    w.Str16(b.id);
    w.Int<uint8_t>(static_cast<uint8_t>(b.type));
    w.Str16(b.pattern);
  }
  // A derived batch is its rule and its state words, runs of zero words (untouched records)
  // written as a count: a fresh 100M-record batch takes a few bytes.
  uint64_t derived_records = 0;
  w.Int<uint32_t>(static_cast<uint32_t>(derived.size()));
  for (const std::shared_ptr<const DerivedBatch>& batch : derived) {
    const DerivedRule& rule = batch->rule();
    w.Int<uint32_t>(rule.handle);
    w.Int<uint64_t>(rule.serial);
    w.Int<uint32_t>(rule.count);
    w.Int<int64_t>(rule.created_ms);
    w.Int<uint32_t>(rule.ttl_seconds);
    w.Str8(rule.fixed_code);
    std::vector<uint32_t> literals;
    uint64_t n = 1;
    while (n <= rule.count) {
      uint32_t zeros = 0;
      while (n <= rule.count && batch->word(n).load(std::memory_order_relaxed) == 0) {
        ++zeros;
        ++n;
      }
      literals.clear();
      for (uint32_t word; n <= rule.count && literals.size() < 65536 &&
                          (word = batch->word(n).load(std::memory_order_relaxed)) != 0;
           ++n) {
        literals.push_back(word);
        if (!DerivedState::Gone(word)) ++derived_records;
      }
      derived_records += zeros;
      w.Int<uint32_t>(zeros);
      w.Int<uint32_t>(static_cast<uint32_t>(literals.size()));
      w.Bytes(literals.data(), literals.size() * sizeof(uint32_t));
    }
  }

  w.Int<uint64_t>(record_count);
  w.Bytes(records.data(), records.size());
  records.clear();
  records.shrink_to_fit();

  InboxQuery all;
  all.limit = inbox.capacity();
  std::vector<InboxMessage> messages = inbox.List(all);  // newest first
  w.Int<uint32_t>(static_cast<uint32_t>(messages.size()));
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    w.Int<uint8_t>(static_cast<uint8_t>(it->type));
    w.Str16(it->to);
    w.Str8(it->code);
    w.Str8(it->verification_id);
    w.Int<int64_t>(it->sent_ms);
  }
  const uint32_t crc = w.crc();
  w.Raw(&crc, sizeof(crc));
  w.Raw(kEndMagic, sizeof(kEndMagic));
  bool ok = w.Flush();
  if (!ok) *error = Errno("cannot write " + temp);
  if (ok && ::fsync(fd) != 0) {
    *error = Errno("cannot fsync " + temp);
    ok = false;
  }
  if (::close(fd) != 0 && ok) {
    *error = Errno("cannot close " + temp);
    ok = false;
  }
  if (ok && std::rename(temp.c_str(), path.c_str()) != 0) {
    *error = Errno("cannot rename " + temp + " to " + path);
    ok = false;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return false;
  }
  const int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  if (stats) {
    stats->records = record_count + derived_records;
    stats->batches = batches.size();
    stats->inbox_messages = messages.size();
    stats->bytes = w.written();
  }
  return true;
}

SnapshotLoad LoadSnapshot(const std::string& path, VerificationStore* store, Inbox* inbox,
                          SnapshotStats* stats, std::string* error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    if (errno == ENOENT) return SnapshotLoad::kMissing;
    *error = Errno("cannot open " + path);
    return SnapshotLoad::kCorrupt;
  }
  auto buffer = std::make_unique<char[]>(1 << 20);
  std::setvbuf(file.get(), buffer.get(), _IOFBF, 1 << 20);
  Reader r(file.get());
  auto corrupt = [&](const std::string& what) {
    *error = path + ": " + what + " (at byte " + std::to_string(r.offset()) + ")";
    return SnapshotLoad::kCorrupt;
  };
  char magic[8];
  uint32_t version, reserved;
  int64_t written_at;
  if (!r.Bytes(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) {
    return corrupt("not an mfa-mock snapshot");
  }
  if (!r.Int(&version) || !r.Int(&reserved) || !r.Int(&written_at)) {
    return corrupt("truncated header");
  }
  if (version != kSnapshotVersion && version != 1) {
    return corrupt("snapshot version " + std::to_string(version) + " is not supported (expected " +
                   std::to_string(kSnapshotVersion) + ")");
  }
  if (version >= 2) {
    std::array<uint8_t, kDerivedKeyBytes> key;
    if (!r.Bytes(key.data(), key.size())) return corrupt("truncated key");
    store->RestoreCipherKey(key);
  }
  uint32_t batch_count;
  if (!r.Int(&batch_count)) return corrupt("truncated batch list");
  std::vector<Batch> batches;
  for (uint32_t i = 0; i < batch_count; ++i) {
    Batch b;
    uint8_t type;
    if (!r.Str16(&b.id) || !r.Int(&type) || !r.Str16(&b.pattern)) {
      return corrupt("truncated batch");
    }
    if (type > 1) return corrupt("bad identifier type in batch");
    b.type = static_cast<IdentifierType>(type);
    batches.push_back(b);
    store->RegisterBatch(std::move(b));
  }
  uint32_t derived_count = 0;
  if (version >= 2 && !r.Int(&derived_count)) return corrupt("truncated derived batch list");
  uint64_t derived_records = 0;
  for (uint32_t i = 0; i < derived_count; ++i) {
    const std::string which = "derived batch " + std::to_string(i);
    DerivedRule rule;
    if (!r.Int(&rule.handle) || !r.Int(&rule.serial) || !r.Int(&rule.count) ||
        !r.Int(&rule.created_ms) || !r.Int(&rule.ttl_seconds) || !r.Str8(&rule.fixed_code)) {
      return corrupt("truncated " + which);
    }
    if (rule.handle == 0 || rule.handle > batch_count)
      return corrupt(which + " names an unknown batch");
    const Batch& named = batches[rule.handle - 1];
    rule.id = named.id;
    rule.type = named.type;
    rule.pattern = named.pattern;
    std::shared_ptr<DerivedBatch> batch;
    try {  // a damaged count can ask for more than the machine has; the checksum comes last
      batch = std::make_shared<DerivedBatch>(std::move(rule));
    } catch (const std::bad_alloc&) {
      return corrupt("no memory for the state of " + which);
    }
    const uint64_t count = batch->rule().count;
    uint32_t* words = batch->raw_words();
    for (uint64_t at = 0; at < count;) {
      uint32_t zeros, m;
      if (!r.Int(&zeros) || !r.Int(&m)) return corrupt("truncated state of " + which);
      if (uint64_t{zeros} + m > count - at) return corrupt("state of " + which + " overruns it");
      at += zeros;
      if (!r.Bytes(words + at, uint64_t{m} * sizeof(uint32_t))) {
        return corrupt("truncated state of " + which);
      }
      at += m;
      if (zeros == 0 && m == 0) return corrupt("empty state run in " + which);
    }
    const InsertStatus adopted = store->AdoptDerived(batch);
    if (adopted == InsertStatus::kExists) return corrupt(which + " repeats a batch or serial");
    if (adopted == InsertStatus::kFull) {
      *error = path + ": holds more records than --max-records allows";
      return SnapshotLoad::kCorrupt;
    }
    derived_records += batch->remaining();
  }
  uint64_t record_count;
  if (!r.Int(&record_count)) return corrupt("truncated record count");
  VerificationStore::RestoredRecord rec;
  for (uint64_t i = 0; i < record_count; ++i) {
    uint8_t kind;
    if (!r.Str8(&rec.id) || !r.Str8(&rec.code) || !r.Int(&rec.flags) || !r.Int(&rec.try_count) ||
        !r.Int(&rec.created_ms) || !r.Int(&rec.ttl_seconds) ||
        !r.Int(&rec.consumed_after_seconds) || !r.Int(&kind)) {
      return corrupt("truncated record " + std::to_string(i));
    }
    if (kind == 0) {
      rec.generated = false;
      if (!r.Str16(&rec.identifier)) return corrupt("truncated record " + std::to_string(i));
    } else if (kind == 1) {
      rec.generated = true;
      if (!r.Int(&rec.batch) || !r.Int(&rec.seq)) {
        return corrupt("truncated record " + std::to_string(i));
      }
      if (rec.batch == 0 || rec.batch > batch_count) {
        return corrupt("record " + std::to_string(i) + " names an unknown batch");
      }
    } else {
      return corrupt("bad identifier kind in record " + std::to_string(i));
    }
    if (rec.id.empty()) return corrupt("empty id in record " + std::to_string(i));
    const InsertStatus status = store->InsertRestored(rec);
    if (status == InsertStatus::kExists)
      return corrupt("duplicate id in record " + std::to_string(i));
    if (status == InsertStatus::kFull) {
      *error = path + ": holds more records than --max-records allows";
      return SnapshotLoad::kCorrupt;
    }
  }
  uint32_t message_count;
  if (!r.Int(&message_count)) return corrupt("truncated inbox");
  std::vector<InboxMessage> messages;
  for (uint32_t i = 0; i < message_count; ++i) {
    InboxMessage m;
    uint8_t type;
    if (!r.Int(&type) || !r.Str16(&m.to) || !r.Str8(&m.code) || !r.Str8(&m.verification_id) ||
        !r.Int(&m.sent_ms)) {
      return corrupt("truncated inbox message");
    }
    if (type > 1) return corrupt("bad channel in inbox message");
    m.type = static_cast<IdentifierType>(type);
    messages.push_back(std::move(m));
  }
  const uint32_t expected_crc = r.crc();
  uint32_t crc;
  char end[8];
  if (!r.Raw(&crc, sizeof(crc)) || !r.Raw(end, sizeof(end))) return corrupt("truncated trailer");
  if (crc != expected_crc) return corrupt("checksum mismatch");
  if (std::memcmp(end, kEndMagic, 8) != 0 || !r.AtEof()) return corrupt("bad trailer");
  for (InboxMessage& m : messages) inbox->Add(std::move(m));
  if (stats) {
    stats->records = record_count + derived_records;
    stats->batches = batch_count;
    stats->inbox_messages = message_count;
    stats->bytes = r.offset() + sizeof(crc) + sizeof(end);
  }
  return SnapshotLoad::kLoaded;
}

}  // namespace mfa
