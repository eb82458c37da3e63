#include "lib/payments/operation_params.h"

#include "absl/strings/str_cat.h"
#include "lib/common/sha256.h"
#include "nlohmann/json.hpp"

namespace payments {
namespace {

using Json = nlohmann::json;

// The fields that make the operation what it is (not the lock's snapshot).
Json BusinessJson(const OperationParams& params) {
  return {{"intent", params.intent_id},
          {"amount", params.amount},
          {"tips", params.tips_amount},
          {"reason", params.reason},
          {"notes", params.notes}};
}

}  // namespace

std::string OperationParams::ToJson() const {
  Json json = BusinessJson(*this);
  json["capturesBefore"] = captures_before;
  if (guarded.has_value()) {
    json["guarded"] = {{"kind", idempotency::OperationKindName(guarded->kind)},
                       {"reference", guarded->reference}};
  }
  return json.dump();
}

std::optional<OperationParams> OperationParams::FromJson(
    absl::string_view text) {
  Json json = Json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  OperationParams params;
  try {
    params.intent_id = json.at("intent").get<std::string>();
    params.amount = json.at("amount").get<int64_t>();
    params.tips_amount = json.at("tips").get<int64_t>();
    params.reason = json.at("reason").get<std::string>();
    params.notes = json.at("notes").get<std::string>();
    params.captures_before = json.at("capturesBefore").get<int>();
    if (auto it = json.find("guarded"); it != json.end()) {
      const std::string kind = it->at("kind").get<std::string>();
      for (idempotency::OperationKind k :
           {idempotency::OperationKind::kCapture,
            idempotency::OperationKind::kRefund,
            idempotency::OperationKind::kReversal,
            idempotency::OperationKind::kCancel}) {
        if (kind == idempotency::OperationKindName(k)) {
          params.guarded =
              idempotency::Key{k, "", it->at("reference").get<std::string>()};
        }
      }
      if (!params.guarded.has_value()) return std::nullopt;
    }
  } catch (const Json::exception&) {
    return std::nullopt;
  }
  return params;
}

std::string KeyedReference(absl::string_view intent_id, absl::string_view key) {
  return absl::StrCat(intent_id, "/", key);
}

std::string RefundIdempotencyKey(absl::string_view account,
                                 absl::string_view intent_id,
                                 absl::string_view refund_key) {
  // Length-prefixed parts: no two triples give the same input.
  return absl::StrCat(
      "pgw1-", Sha256Hex(absl::StrCat(account.size(), ":", account,
                                      intent_id.size(), ":", intent_id,
                                      refund_key.size(), ":", refund_key)));
}

std::string OperationFingerprint(idempotency::OperationKind kind,
                                 const OperationParams& params) {
  Json json = BusinessJson(params);
  json["kind"] = idempotency::OperationKindName(kind);
  return absl::StrCat("v1:", Sha256Hex(json.dump()));
}

}  // namespace payments
