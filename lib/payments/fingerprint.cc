#include "lib/payments/fingerprint.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/common/sha256.h"
#include "lib/dojo/dojo_json.h"

namespace payments {
namespace {

constexpr absl::string_view kVersionPrefix = "v1:";

}  // namespace

std::string CreateFingerprint(const v1::CreateIntentRequest& request) {
  v1::CreateIntentRequest stable = request;
  stable.clear_account();
  stable.clear_include_client_session_secret();
  stable.clear_expire_at();
  stable.clear_request_security();
  if (stable.has_customer()) stable.mutable_customer()->clear_secret();
  // Dojo JSON is canonical: object keys sorted, empty fields omitted.
  return absl::StrCat(kVersionPrefix, Sha256Hex(dojo::ToDojoJson(stable)));
}

bool SameFingerprint(absl::string_view recorded, absl::string_view current) {
  if (recorded == current) return true;
  return absl::StartsWith(current, kVersionPrefix) &&
         current.substr(kVersionPrefix.size()) == recorded;
}

std::string CreateParams(const v1::CreateIntentRequest& request) {
  return absl::StrCat(request.amount().value(), " ",
                      request.amount().currency_code());
}

bool IsIntentOf(const v1::PaymentIntent& intent, absl::string_view reference,
                absl::string_view params) {
  if (intent.reference() != reference) return false;
  // Records journaled before params existed keep only the fingerprint: the
  // reference is all there is to match (never "not found" for want of an
  // amount).
  return params.empty() ||
         absl::StrCat(intent.amount().value(), " ",
                      intent.amount().currency_code()) == params;
}

}  // namespace payments
