#include "lib/idempotency/store_encoding.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace payments::idempotency::internal {

int64_t TimeToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  // ToUnixMicros saturates for times beyond the int64 range.
  return absl::ToUnixMicros(t);
}

absl::Time MicrosToTime(int64_t micros) {
  if (micros == std::numeric_limits<int64_t>::min()) {
    return absl::InfinitePast();
  }
  if (micros == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixMicros(micros);
}

const char* StateName(RecordState state) {
  switch (state) {
    case RecordState::kInFlight:
      return "in_flight";
    case RecordState::kCompleted:
      return "completed";
    case RecordState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<RecordState> ParseState(const std::string& name) {
  if (name == "in_flight") return RecordState::kInFlight;
  if (name == "completed") return RecordState::kCompleted;
  if (name == "unknown") return RecordState::kUnknown;
  return std::nullopt;
}

absl::Status ValidateText(const std::string& text, const char* what,
                          bool allow_empty) {
  if (text.empty() && !allow_empty) {
    return absl::InvalidArgumentError(std::string(what) + " is empty");
  }
  // UTF-8 well-formedness (RFC 3629: no overlongs, surrogates or code
  // points above U+10FFFF) and no NUL.
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    int extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c == 0) {
      return absl::InvalidArgumentError(std::string(what) + " contains NUL");
    } else if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return absl::InvalidArgumentError(std::string(what) +
                                        " is not valid UTF-8");
    }
    ++p;
    for (int i = 0; i < extra; ++i, ++p) {
      if (p >= end || *p < (i == 0 ? lo : 0x80) || *p > (i == 0 ? hi : 0xBF)) {
        return absl::InvalidArgumentError(std::string(what) +
                                          " is not valid UTF-8");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(const Key& key) {
  if (absl::Status s = ValidateText(key.account, "idempotency key account",
                                    /*allow_empty=*/true);
      !s.ok()) {
    return s;
  }
  return ValidateText(key.reference, "idempotency key reference");
}

absl::Status ValidateOwner(const std::string& owner) {
  return ValidateText(owner, "idempotency record owner");
}

absl::Status ValidatePositive(absl::Duration d, const char* what) {
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(std::string(what) + " must be positive");
  }
  return absl::OkStatus();
}

absl::Status ValidateReserve(const Key& key, const std::string& fingerprint,
                             const std::string& owner, absl::Duration lease,
                             absl::Duration retention) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (absl::Status s = ValidateOwner(owner); !s.ok()) return s;
  if (absl::Status s = ValidateText(fingerprint, "idempotency fingerprint");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidatePositive(lease, "lease"); !s.ok()) return s;
  return ValidatePositive(retention, "retention");
}

absl::Time ExpiryFor(absl::Time now, absl::Duration lease,
                     absl::Duration retention) {
  return std::max(now + retention, now + lease);
}

absl::Status Conflict(const char* operation) {
  return absl::FailedPreconditionError(absl::StrCat(
      operation, ": idempotency record changed, is gone or has another owner"));
}

absl::Status AlreadyDoneOrConflict(
    const absl::StatusOr<std::optional<Record>>& reread, const char* operation,
    const std::string& owner, std::optional<RecordState> state,
    std::optional<int64_t> version) {
  if (!reread.ok()) return reread.status();
  const std::optional<Record>& record = *reread;
  if (!state.has_value()) {
    if (!record.has_value()) return absl::OkStatus();  // Already gone.
    return Conflict(operation);
  }
  if (record.has_value() && record->state == *state && record->owner == owner &&
      (!version.has_value() || record->version == *version)) {
    return absl::OkStatus();  // Already done by this owner.
  }
  return Conflict(operation);
}

}  // namespace payments::idempotency::internal
