#include "tests/emulator/routes.h"

#include <algorithm>

#include "tests/emulator/intent_factory.h"
#include "tests/emulator/lifecycle.h"
#include "tests/emulator/problem_details.h"
#include "tests/emulator/random_ids.h"
#include "tests/emulator/timestamps.h"
#include "tests/emulator/validation.h"

namespace dojo_emulator {
namespace {

RouteResult NotFound(const std::string& id, const std::string& trace_id) {
  return {ProblemResponse(404, "Payment intent not found", trace_id), id};
}

// A request's optional string field: the string, or null.
Json OptionalText(const Json& request, const char* name) {
  auto it = request.find(name);
  return it != request.end() && it->is_string() ? *it : Json(nullptr);
}

// Search cursors are opaque to clients: "c" + base-36 createdAt ticks
// (biased by 2^63 so that any date fits) + "." + base-36 creation sequence.
// They name a position in the newest-first order, not an offset, so pages
// stay consistent while intents are created.
constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr uint64_t kTickBias = uint64_t{1} << 63;

std::string Base36(uint64_t n) {
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[n % 36]);
    n /= 36;
  } while (n > 0);
  return digits;
}

std::optional<uint64_t> ParseBase36(std::string_view text) {
  if (text.empty() || text.size() > 13) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (__builtin_mul_overflow(n, uint64_t{36}, &n) ||
        __builtin_add_overflow(n, static_cast<uint64_t>(digit), &n)) {
      return std::nullopt;
    }
  }
  return n;
}

std::string EncodeCursor(const IntentKey& key) {
  return "c" + Base36(static_cast<uint64_t>(key.created_ticks) + kTickBias) +
         "." + Base36(key.seq);
}

std::optional<IntentKey> DecodeCursor(std::string_view cursor) {
  if (cursor.size() < 4 || cursor[0] != 'c') return std::nullopt;
  size_t dot = cursor.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<uint64_t> ticks = ParseBase36(cursor.substr(1, dot - 1));
  std::optional<uint64_t> seq = ParseBase36(cursor.substr(dot + 1));
  if (!ticks || !seq) return std::nullopt;
  return IntentKey{static_cast<int64_t>(*ticks - kTickBias), *seq};
}

}  // namespace

RouteResult Routes::Handle(const Request& req, const Target& target,
                           const AuthResult& auth, const std::string& trace_id,
                           const RequestContext& ctx) {
  using Outcome = AuthResult::Outcome;
  RouteResult result;
  if (auth.outcome == Outcome::kForbidden) {
    result.response = ProblemResponse(
        403, "The API key is not authorized to use this product.", trace_id);
  } else if (auth.outcome != Outcome::kOk) {
    result.response = MakeResponse(http::status::unauthorized, "", "");
  } else if (auto version = req.find("version");
             version == req.end() || !IsApiVersion(version->value())) {
    result.response = ProblemResponse(
        400,
        version == req.end()
            ? "The version header is required (format yyyy-mm-dd)."
            : "The version header must be a date in the format yyyy-mm-dd.",
        trace_id);
  } else {
    std::vector<std::string> seg = SplitPath(target.path);
    http::verb method = req.method();
    const std::string& account = auth.account;
    auto not_allowed = [&](const char* allow) {
      RouteResult r{ProblemResponse(405, "", trace_id), ""};
      r.response.set(http::field::allow, allow);
      return r;
    };
    if (seg.empty() || seg[0] != "payment-intents" || seg.size() > 3) {
      result.response = ProblemResponse(404, "", trace_id);
    } else if (seg.size() == 1) {
      result = method == http::verb::post ? Create(req, account, trace_id, ctx)
                                          : not_allowed("POST");
    } else if (seg.size() == 2 && seg[1] == "search") {
      result = method == http::verb::post ? Search(req, account, trace_id)
                                          : not_allowed("POST");
    } else if (seg.size() == 2) {
      if (method == http::verb::get) {
        result = Get(seg[1], target, account, trace_id);
      } else if (method == http::verb::delete_) {
        result = Cancel(seg[1], account, trace_id, ctx);
      } else {
        result = not_allowed("GET, DELETE");
      }
    } else if (seg[1] == "refunds") {
      result = method == http::verb::get ? GetRefund(seg[2], account, trace_id)
                                         : not_allowed("GET");
    } else if (seg[2] == "refresh-client-session-secret") {
      result = method == http::verb::post
                   ? Refresh(seg[1], account, trace_id, ctx)
                   : not_allowed("POST");
    } else if (seg[2] == "captures") {
      result = method == http::verb::post
                   ? Capture(req, seg[1], account, trace_id, ctx)
                   : not_allowed("POST");
    } else if (seg[2] == "reversal") {
      result = method == http::verb::post
                   ? Reverse(seg[1], account, trace_id, ctx)
                   : not_allowed("POST");
    } else if (seg[2] == "refunds") {
      result = method == http::verb::post
                   ? Refund(req, seg[1], account, trace_id, ctx)
                   : not_allowed("POST");
    } else if (seg[2] == "amount") {
      result = method == http::verb::post
                   ? SetAmount(req, seg[1], account, trace_id, ctx)
                   : not_allowed("POST");
    } else {
      result.response = ProblemResponse(404, "", trace_id);
    }
  }
  result.response.set("x-trace-id", trace_id);
  return result;
}

RouteResult Routes::Create(const Request& req, const std::string& account,
                           const std::string& trace_id,
                           const RequestContext& ctx) {
  TimePoint now = ctx.received_at;
  Json errors = ValidateCreatePaymentIntent(req.body(), now);
  if (!errors.empty()) return {ValidationProblemResponse(errors, trace_id), ""};
  Json request = Json::parse(req.body());
  std::string id = NewIntentId();
  StoredIntent stored = store_->Insert(
      account, now, BuildPaymentIntent(id, request, now), ctx.batch);
  return {JsonResponse(http::status::ok, stored.body), id};
}

RouteResult Routes::Get(const std::string& id, const Target& target,
                        const std::string& account,
                        const std::string& trace_id) {
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);
  std::string return_canceled =
      QueryParam(target.query, "returnCanceled").value_or("");
  std::transform(return_canceled.begin(), return_canceled.end(),
                 return_canceled.begin(), ::tolower);
  if (intent->body["status"] == "Canceled" && return_canceled != "true") {
    return NotFound(id, trace_id);
  }
  return {JsonResponse(http::status::ok, intent->body), id};
}

RouteResult Routes::Refresh(const std::string& id, const std::string& account,
                            const std::string& trace_id,
                            const RequestContext& ctx) {
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);
  std::string status;
  intent = store_->Apply(
      id,
      [&](const StoredIntent& s) -> IntentStore::Change {
        status = s.body["status"].get<std::string>();
        if (status != "Created") return {};
        return [secret = NewClientSessionSecret(),
                expires = FormatTimestamp(ctx.received_at +
                                          std::chrono::minutes(30))](
                   StoredIntent& target) {
          target.body["clientSessionSecret"] = secret;
          target.body["clientSessionSecretExpirationDate"] = expires;
        };
      },
      ctx.batch);
  if (!intent) return NotFound(id, trace_id);
  if (status != "Created") {
    return {ProblemResponse(400,
                            "The client session secret can only be refreshed "
                            "for a payment intent in status Created (status "
                            "is " +
                                status + ").",
                            trace_id),
            id};
  }
  return {JsonResponse(http::status::ok, intent->body), id};
}

RouteResult Routes::Cancel(const std::string& id, const std::string& account,
                           const std::string& trace_id,
                           const RequestContext& ctx) {
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);
  std::string status;
  intent = store_->Apply(
      id,
      [&](const StoredIntent& s) -> IntentStore::Change {
        status = s.body["status"].get<std::string>();
        if (status != "Created") return {};
        return [now = ctx.received_at](StoredIntent& target) {
          ApplyStatus(target.body, "Canceled", now);
        };
      },
      ctx.batch);
  if (!intent) return NotFound(id, trace_id);
  if (status != "Created") {
    return {ProblemResponse(
                409,
                "A payment intent in status " + status + " cannot be canceled.",
                trace_id),
            id};
  }
  return {JsonResponse(http::status::ok, intent->body), id};
}

RouteResult Routes::Search(const Request& req, const std::string& account,
                           const std::string& trace_id) {
  Json errors = ValidateSearchPaymentIntents(req.body());
  if (!errors.empty()) return {ValidationProblemResponse(errors, trace_id), ""};
  bool blank = req.body().find_first_not_of(" \t\r\n") == std::string::npos;
  Json request = blank ? Json::object() : Json::parse(req.body());
  auto get = [&](const Json& obj, const char* name) -> const Json* {
    auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  };
  std::optional<TimePoint> start, end;
  if (const Json* v = get(request, "startDate")) {
    start = ParseTimestamp(v->get<std::string>());
  }
  if (const Json* v = get(request, "endDate")) {
    end = ParseTimestamp(v->get<std::string>());
  }
  std::vector<std::string> statuses;
  if (const Json* v = get(request, "statuses")) {
    for (const Json& s : *v) statuses.push_back(s.get<std::string>());
  }
  SearchQuery query;
  query.account = account;
  query.start = start;
  query.end = end;
  query.statuses = std::move(statuses);
  if (const Json* cursor = get(request, "cursor")) {
    if (const Json* v = get(*cursor, "limit")) query.limit = v->get<int>();
    for (auto [name, out] :
         {std::pair{"before", &query.before}, {"after", &query.after}}) {
      if (const Json* v = get(*cursor, name)) {
        *out = DecodeCursor(v->get<std::string>());
        if (!*out) {
          Json e = Json::object();
          e["Cursor." + std::string(1, static_cast<char>(::toupper(name[0]))) +
            (name + 1)]
              .push_back("The cursor is not valid.");
          return {ValidationProblemResponse(e, trace_id), ""};
        }
      }
    }
  }

  // Newest first. `before` names the newest item of the page when newer
  // matches exist, `after` the oldest when older ones exist; the last page
  // (towards older intents) has "after": null.
  SearchPage found = store_->Search(query);
  Json data = Json::array();
  for (StoredIntent& intent : found.items) {
    data.push_back(std::move(intent.body));
  }
  Json page = Json::object();
  page["data"] = std::move(data);
  page["before"] = found.newer ? Json(EncodeCursor(found.items.front().key()))
                               : Json(nullptr);
  page["after"] = found.older ? Json(EncodeCursor(found.items.back().key()))
                              : Json(nullptr);
  return {JsonResponse(http::status::ok, page), ""};
}

// Body validation (model binding) comes first, as in ASP.NET, then the
// intent lookup, then the state rules, checked and applied atomically.
RouteResult Routes::Capture(const Request& req, const std::string& id,
                            const std::string& account,
                            const std::string& trace_id,
                            const RequestContext& ctx) {
  Json errors = ValidateCreateCapture(req.body());
  if (!errors.empty()) return {ValidationProblemResponse(errors, trace_id), id};
  const Json request = Json::parse(req.body());
  const int64_t amount = request["amount"].get<int64_t>();
  std::optional<int64_t> tips;
  if (auto it = request.find("tipsAmount");
      it != request.end() && !it->is_null()) {
    tips = it->get<int64_t>();
  }
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);

  enum class Outcome { kCaptured, kWrongStatus, kNotManual, kTooMuch };
  Outcome outcome = Outcome::kWrongStatus;
  std::string status;
  int64_t left = 0;
  Json capture;
  intent = store_->Apply(
      id,
      [&](const StoredIntent& s) -> IntentStore::Change {
        status = s.body["status"].get<std::string>();
        if (status != "Authorized") return {};
        if (!IsManualCapture(s.body)) {
          outcome = Outcome::kNotManual;
          return {};
        }
        left = AuthorizedAmount(s.body) - CapturedAmount(s.body);
        if (amount > left) {
          outcome = Outcome::kTooMuch;
          return {};
        }
        capture = NewCapture(amount, tips, ctx.received_at);
        outcome = Outcome::kCaptured;
        return [capture, now = ctx.received_at](StoredIntent& target) {
          AddCapture(target.body, capture, now);
        };
      },
      ctx.batch);
  if (!intent) return NotFound(id, trace_id);
  switch (outcome) {
    case Outcome::kWrongStatus:
      return {ProblemResponse(409,
                              "A payment intent in status " + status +
                                  " cannot be captured (it must be "
                                  "Authorized).",
                              trace_id),
              id};
    case Outcome::kNotManual:
      return {ProblemResponse(409,
                              "Only a payment intent with captureMode Manual "
                              "can be captured.",
                              trace_id),
              id};
    case Outcome::kTooMuch:
      return {ProblemResponse(400,
                              "The capture amount " + std::to_string(amount) +
                                  " exceeds the amount left to capture (" +
                                  std::to_string(left) + ").",
                              trace_id),
              id};
    case Outcome::kCaptured:
      break;
  }
  Json body = Json::object();
  body["message"] = "Capture successful";
  body["captureId"] = capture["id"];
  return {JsonResponse(http::status::ok, body), id};
}

RouteResult Routes::Reverse(const std::string& id, const std::string& account,
                            const std::string& trace_id,
                            const RequestContext& ctx) {
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);
  std::string status;
  bool captured = false, reversed = false;
  intent = store_->Apply(
      id,
      [&](const StoredIntent& s) -> IntentStore::Change {
        status = s.body["status"].get<std::string>();
        captured = CapturedAmount(s.body) > 0;
        if (status != "Authorized" || captured) return {};
        reversed = true;
        return [now = ctx.received_at](StoredIntent& target) {
          dojo_emulator::Reverse(target.body, now);
        };
      },
      ctx.batch);
  if (!intent) return NotFound(id, trace_id);
  if (!reversed) {
    return {ProblemResponse(
                409,
                captured && status == "Authorized"
                    ? std::string("A partly captured payment intent cannot "
                                  "be reversed.")
                    : "A payment intent in status " + status +
                          " cannot be reversed (it must be Authorized).",
                trace_id),
            id};
  }
  Json body = Json::object();
  body["message"] = "Reversal successful";
  body["reversalId"] = NewReversalId();
  return {JsonResponse(http::status::ok, body), id};
}

RouteResult Routes::Refund(const Request& req, const std::string& id,
                           const std::string& account,
                           const std::string& trace_id,
                           const RequestContext& ctx) {
  std::optional<std::string_view> key_header;
  if (auto it = req.find("idempotencyKey"); it != req.end()) {
    key_header = it->value();
  }
  Json errors = ValidateCreateRefund(req.body(), key_header);
  if (!errors.empty()) return {ValidationProblemResponse(errors, trace_id), id};
  const std::string key(*key_header);
  const Json request = Json::parse(req.body());
  const int64_t amount = request["amount"].get<int64_t>();
  const Json reason = OptionalText(request, "refundReason");
  const Json notes = OptionalText(request, "notes");
  const Json previous = OptionalText(request, "previousTransactionId");
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);

  // A retry that arrives while the first request's refund is still being
  // committed (commitDelayMs) cannot see it yet: it is told to come back.
  const std::string reservation = id + '\n' + key;
  if (!store_->ReserveKey(reservation, ctx.batch)) {
    return {ProblemResponse(409,
                            "A refund with this idempotencyKey is still being "
                            "processed. Retry later.",
                            trace_id),
            id};
  }
  enum class Outcome { kCreated, kReplayed, kMismatch, kWrongStatus, kTooMuch };
  Outcome outcome = Outcome::kWrongStatus;
  const bool replay_mismatched = replay_mismatched_;
  std::string status;
  int64_t left = 0;
  RefundRecord refund;
  intent = store_->Apply(
      id,
      [&](const StoredIntent& s) -> IntentStore::Change {
        for (const RefundRecord& r : s.refunds) {
          if (r.idempotency_key != key) continue;
          refund = r;
          bool same = r.amount == amount && r.refund_reason == reason &&
                      r.notes == notes && r.previous_transaction_id == previous;
          outcome = same || replay_mismatched ? Outcome::kReplayed
                                              : Outcome::kMismatch;
          return {};
        }
        status = s.body["status"].get<std::string>();
        if (status != "Captured") return {};
        left = CapturedAmount(s.body) - RefundedAmount(s.body);
        if (amount > left) {
          outcome = Outcome::kTooMuch;
          return {};
        }
        refund = {NewRefundId(),
                  key,
                  amount,
                  reason,
                  notes,
                  previous,
                  FormatTimestamp(ctx.received_at)};
        outcome = Outcome::kCreated;
        return [refund, now = ctx.received_at](StoredIntent& target) {
          ApplyRefund(target, refund, now);
        };
      },
      ctx.batch);
  if (outcome != Outcome::kCreated && ctx.batch != IntentStore::kNoBatch) {
    store_->ReleaseKey(reservation);
  }
  if (!intent) return NotFound(id, trace_id);
  switch (outcome) {
    case Outcome::kMismatch:
      return {ProblemResponse(409,
                              "The idempotencyKey was already used for a "
                              "different refund of this payment intent.",
                              trace_id),
              id};
    case Outcome::kWrongStatus:
      return {ProblemResponse(400,
                              "A payment intent in status " + status +
                                  " cannot be refunded (it must be "
                                  "Captured).",
                              trace_id),
              id};
    case Outcome::kTooMuch:
      return {ProblemResponse(400,
                              "The refund amount " + std::to_string(amount) +
                                  " exceeds the amount left to refund (" +
                                  std::to_string(left) + ").",
                              trace_id),
              id};
    case Outcome::kCreated:
    case Outcome::kReplayed:
      break;
  }
  return {JsonResponse(http::status::ok, RefundBody(id, refund)), id};
}

RouteResult Routes::GetRefund(const std::string& refund_id,
                              const std::string& account,
                              const std::string& trace_id) {
  Json errors = ValidateRefundId(refund_id);
  if (!errors.empty()) return {ValidationProblemResponse(errors, trace_id), ""};
  auto found = store_->GetRefund(refund_id);
  if (!found || found->first.account != account) {
    return {ProblemResponse(404, "Refund not found", trace_id), ""};
  }
  std::string id = found->first.body["id"].get<std::string>();
  return {JsonResponse(http::status::ok, RefundBody(id, found->second)), id};
}

RouteResult Routes::SetAmount(const Request& req, const std::string& id,
                              const std::string& account,
                              const std::string& trace_id,
                              const RequestContext& ctx) {
  Json errors = ValidateSetAmount(req.body());
  if (!errors.empty()) return {ValidationProblemResponse(errors, trace_id), id};
  const Json request = Json::parse(req.body());
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent || intent->account != account) return NotFound(id, trace_id);

  enum class Outcome { kChanged, kNotAllowed, kWrongStatus, kCurrency };
  Outcome outcome = Outcome::kNotAllowed;
  std::string status, currency;
  intent = store_->Apply(
      id,
      [&](const StoredIntent& s) -> IntentStore::Change {
        if (!CustomAmountAllowed(s.body)) return {};
        status = s.body["status"].get<std::string>();
        if (status != "Created") {
          outcome = Outcome::kWrongStatus;
          return {};
        }
        currency = s.body["amount"]["currencyCode"].get<std::string>();
        if (request["amount"]["currencyCode"] != currency) {
          outcome = Outcome::kCurrency;
          return {};
        }
        outcome = Outcome::kChanged;
        return [request, now = ctx.received_at](StoredIntent& target) {
          ChangeAmount(target.body, request, now);
        };
      },
      ctx.batch);
  if (!intent) return NotFound(id, trace_id);
  switch (outcome) {
    case Outcome::kNotAllowed:
      return {ProblemResponse(405,
                              "The amount of this payment intent cannot be "
                              "changed: it was not created with "
                              "config.payment.customAmountAllowed true.",
                              trace_id),
              id};
    case Outcome::kWrongStatus:
      return {ProblemResponse(400,
                              "The amount can only be changed while the "
                              "payment intent is Created (status is " +
                                  status + ").",
                              trace_id),
              id};
    case Outcome::kCurrency: {
      Json e = Json::object();
      e["Amount.CurrencyCode"].push_back(
          "The currency must be the payment intent's currency (" + currency +
          ").");
      return {ValidationProblemResponse(e, trace_id), id};
    }
    case Outcome::kChanged:
      break;
  }
  return {JsonResponse(http::status::ok, intent->body), id};
}

}  // namespace dojo_emulator
