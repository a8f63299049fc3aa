// SPDX-License-Identifier: Apache-2.0
#include "http/reply.h"

#include "http/log.h"

namespace mfa {

void SetError(Reply& reply, Outcome outcome, IdentifierType type, int64_t remaining_ms) {
  const HttpError& e = ErrorFor(outcome);
  reply.status = e.status;
  reply.body = outcome == Outcome::kSessionNotFound ? SessionNotFoundBody()
                                                    : ErrorBody(outcome, type, remaining_ms);
  reply.error_code.assign(e.code);
  reply.translatable = TranslatableFor(outcome, type, remaining_ms);
}

void SetErrorWithData(Reply& reply, Outcome outcome, std::string_view data_json) {
  const HttpError& e = ErrorFor(outcome);
  reply.status = e.status;
  reply.body = ErrorBodyWithData(outcome, data_json);
  reply.error_code.assign(e.code);
  reply.translatable = TranslatableFor(outcome);
}

void SetError(Reply& reply, ApiError error, std::string_view message) {
  const HttpError& e = ErrorFor(error);
  reply.status = e.status;
  reply.body = ErrorBody(error, message);
  reply.error_code.assign(e.code);
  reply.translatable = {};  // mfa-mock's own words: English
}

PendingAnswer& PendingAnswer::operator=(PendingAnswer&& other) {
  if (this != &other) {
    PendingAnswer dropped(std::move(*this));  // answers 500 if it was still open
    target_ = std::move(other.target_);
  }
  return *this;
}

PendingAnswer::~PendingAnswer() {
  if (target_ == nullptr || target_->decided()) return;
  LogError("an answer was dropped without being completed; answering 500");
  Reply reply;
  SetError(reply, Outcome::kInternal);
  target_->Complete(std::move(reply));
}

void PendingAnswer::Complete(Reply reply) {
  if (target_ == nullptr) return;
  std::shared_ptr<Target> target = std::move(target_);
  target->Complete(std::move(reply));
}

}  // namespace mfa
