#include "lib/idempotency/store_encoding.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <tuple>

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
    case RecordState::kPending:
      return PAYMENTS_STATE_NAME_PENDING;
    case RecordState::kSent:
      return PAYMENTS_STATE_NAME_SENT;
    case RecordState::kUnknown:
      return PAYMENTS_STATE_NAME_UNKNOWN;
    case RecordState::kSucceeded:
      return PAYMENTS_STATE_NAME_SUCCEEDED;
    case RecordState::kFailed:
      return PAYMENTS_STATE_NAME_FAILED;
    case RecordState::kSettledNotCreated:
      return PAYMENTS_STATE_NAME_SETTLED_NOT_CREATED;
  }
  return "";
}

std::optional<RecordState> ParseState(const std::string& name) {
  for (RecordState state :
       {RecordState::kPending, RecordState::kSent, RecordState::kUnknown,
        RecordState::kSucceeded, RecordState::kFailed,
        RecordState::kSettledNotCreated}) {
    if (name == StateName(state)) return state;
  }
  return std::nullopt;
}

const char* KindName(OperationKind kind) {
  switch (kind) {
    case OperationKind::kCreate:
      return PAYMENTS_KIND_NAME_CREATE;
    case OperationKind::kCapture:
      return PAYMENTS_KIND_NAME_CAPTURE;
    case OperationKind::kRefund:
      return PAYMENTS_KIND_NAME_REFUND;
    case OperationKind::kReversal:
      return PAYMENTS_KIND_NAME_REVERSAL;
    case OperationKind::kCancel:
      return PAYMENTS_KIND_NAME_CANCEL;
    case OperationKind::kIntentLock:
      return PAYMENTS_KIND_NAME_INTENT_LOCK;
  }
  return nullptr;
}

std::optional<OperationKind> ParseKind(const std::string& name) {
  for (OperationKind kind :
       {OperationKind::kCreate, OperationKind::kCapture, OperationKind::kRefund,
        OperationKind::kReversal, OperationKind::kCancel,
        OperationKind::kIntentLock}) {
    if (name == KindName(kind)) return kind;
  }
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
  if (KindName(key.kind) == nullptr) {
    return absl::InvalidArgumentError("unknown operation kind");
  }
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

absl::Status ValidateKeyId(const std::string& key_id, bool allow_empty) {
  return ValidateText(key_id, "API key id", allow_empty);
}

absl::Status ValidateDojoId(const std::string& dojo_id) {
  return ValidateText(dojo_id, "Dojo id", /*allow_empty=*/true);
}

absl::Status ValidatePositive(absl::Duration d, const char* what) {
  if (d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(std::string(what) + " must be positive");
  }
  return absl::OkStatus();
}

absl::Status ValidateReserve(const Key& key, const std::string& fingerprint,
                             const std::string& params,
                             const std::string& key_id,
                             const std::string& owner, absl::Duration lease,
                             absl::Duration retention) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (absl::Status s = ValidateOwner(owner); !s.ok()) return s;
  if (absl::Status s = ValidateText(fingerprint, "idempotency fingerprint");
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateText(params, "operation params", /*allow_empty=*/true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateKeyId(key_id, /*allow_empty=*/true); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidatePositive(lease, "lease"); !s.ok()) return s;
  return ValidatePositive(retention, "retention");
}

absl::Status ValidateClaim(const std::string& claimer,
                           absl::Duration claim_lease, int limit) {
  if (absl::Status s = ValidateText(claimer, "claimer"); !s.ok()) return s;
  if (absl::Status s = ValidatePositive(claim_lease, "claim lease"); !s.ok()) {
    return s;
  }
  if (limit < 1) return absl::InvalidArgumentError("limit must be at least 1");
  return absl::OkStatus();
}

absl::Time ExpiryFor(absl::Time now, absl::Duration lease,
                     absl::Duration retention) {
  return std::max(now + retention, now + lease);
}

bool IsOwnersFreshRecord(const Record& record, const std::string& fingerprint,
                         const std::string& params, const std::string& key_id,
                         const std::string& owner) {
  return record.state == RecordState::kPending && record.owner == owner &&
         record.fingerprint == fingerprint && record.params == params &&
         record.key_id == key_id;
}

absl::Status Conflict(const char* operation) {
  return absl::FailedPreconditionError(absl::StrCat(
      operation, ": idempotency record changed, is gone or has another owner"));
}

absl::Status AlreadyDoneOrConflict(
    const absl::StatusOr<std::optional<Record>>& reread, const char* operation,
    const std::string& owner, RecordState state) {
  if (!reread.ok()) return reread.status();
  const std::optional<Record>& record = *reread;
  if (record.has_value() && record->state == state && record->owner == owner) {
    return absl::OkStatus();  // Already done by this owner.
  }
  return Conflict(operation);
}

absl::Status CheckSchemaVersion(std::optional<int64_t> version) {
  if (!version.has_value() || *version < kSchemaVersion) {
    return absl::InternalError("idempotency schema not migrated");
  }
  return absl::OkStatus();
}

void SortSummaries(std::vector<UnknownSummary>& summaries) {
  std::sort(summaries.begin(), summaries.end(),
            [](const UnknownSummary& a, const UnknownSummary& b) {
              return a.kind < b.kind;
            });
}

void SortForClaim(std::vector<Record>& records) {
  auto order = [](const Record& r) {
    return std::make_tuple(r.next_check_at, r.lease_expires_at,
                           std::string_view(KindName(r.key.kind)),
                           std::string_view(r.key.account),
                           std::string_view(r.key.reference));
  };
  std::sort(
      records.begin(), records.end(),
      [&](const Record& a, const Record& b) { return order(a) < order(b); });
}

}  // namespace payments::idempotency::internal

namespace payments::idempotency {

const char* OperationKindName(OperationKind kind) {
  return internal::KindName(kind);
}

}  // namespace payments::idempotency
