// SPDX-License-Identifier: Apache-2.0
// The run-time settings every node of a deployment must share: the config (with its faults) and
// the clock's offset. In one process they are just ConfigStore and OffsetClock; with a shared
// store a ControlPlane keeps them in it, and every node applies each new version.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/code_store.h"

namespace mfa {

struct ControlState {
  int64_t version = 0;  // 0 = nothing published yet
  std::string config;   // opaque here: the config as the admin API renders it
  int64_t clock_offset_ms = 0;
};

// A node as the deployment sees it.
struct ControlNode {
  std::string id;
  int64_t applied_version = 0;
  int64_t last_seen_ms = 0;  // the store's clock
};

// Thread-safe.
class ControlPlane {
 public:
  virtual ~ControlPlane() = default;

  // Read-modify-write of the shared state: `modify` runs on the newest state (again if another
  // node wrote in between) and returns false to abandon the write (done gets kInvalidInput).
  // `done(kOk)` comes once every live node has applied the new version, or after a bounded wait
  // for one that does not (it is then dropped from the live set when its heartbeat stops).
  // `modify` and `done` run on the control plane's own thread.
  virtual void Update(std::function<bool(ControlState*)> modify, Done<Outcome> done) = 0;
  // The live nodes and the version each applied.
  virtual void Nodes(Done<StoreAnswer<std::vector<ControlNode>>> done) = 0;
  // The version this node applied last (0 before the first).
  virtual int64_t applied_version() const = 0;
};

}  // namespace mfa
