#include "tests/emulator/control.h"

#include "tests/emulator/intent_factory.h"
#include "tests/emulator/lifecycle.h"
#include "tests/emulator/random_ids.h"
#include "tests/emulator/timestamps.h"
#include "tests/emulator/validation.h"
#include "tests/emulator/webhook_signer.h"

namespace dojo_emulator {
namespace {

Response Error(http::status status, const std::string& message) {
  return JsonResponse(status, Json{{"error", message}});
}

Response Ok() { return JsonResponse(http::status::ok, Json{{"ok", true}}); }

Response NotAllowed(const char* allow) {
  Response res = Error(http::status::method_not_allowed, "method not allowed");
  res.set(http::field::allow, allow);
  return res;
}

std::optional<Json> ParseBody(const Request& req, Response* error) {
  Json body = Json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    *error = Error(http::status::bad_request, "body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::string StringField(const Json& body, const char* name,
                        const std::string& fallback = "") {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>()
                                             : fallback;
}

}  // namespace

void Control::Handle(const Request& req, const Target& target,
                     ReplyCallback done) {
  std::vector<std::string> seg = SplitPath(target.path);  // seg[0] == _emulator
  http::verb method = req.method();
  auto reply = [&](Response res) { done(Reply{std::move(res)}); };

  if (seg.size() == 2 && seg[1] == "health") {
    if (method != http::verb::get) return reply(NotAllowed("GET"));
    return reply(JsonResponse(http::status::ok, Json{{"ok", true}}));
  }
  if (seg.size() == 2 && seg[1] == "requests") {
    if (method == http::verb::get) {
      return reply(JsonResponse(http::status::ok, log_->ToJson()));
    }
    if (method == http::verb::delete_) {
      log_->Clear();
      return reply(Ok());
    }
    return reply(NotAllowed("GET, DELETE"));
  }
  if (seg.size() == 2 && seg[1] == "faults") {
    if (method == http::verb::get) {
      return reply(JsonResponse(http::status::ok, faults_->ToJson()));
    }
    if (method == http::verb::post) return reply(AddFault(req));
    if (method == http::verb::delete_) {
      faults_->Clear();
      return reply(Ok());
    }
    return reply(NotAllowed("GET, POST, DELETE"));
  }
  if (seg.size() == 2 && seg[1] == "payment-intents") {
    if (method == http::verb::get) return reply(ListIntents(target));
    if (method == http::verb::delete_) {
      store_->Clear();
      expiry_->CancelAll();
      return reply(Ok());
    }
    return reply(NotAllowed("GET, DELETE"));
  }
  if (seg.size() == 3 && seg[1] == "payment-intents" && seg[2] == "bulk" &&
      method == http::verb::post) {
    return reply(BulkCreate(req));
  }
  if (seg.size() == 3 && seg[1] == "payment-intents") {
    if (method != http::verb::get) return reply(NotAllowed("GET"));
    std::optional<StoredIntent> intent = store_->Get(seg[2]);
    if (!intent) {
      return reply(Error(http::status::not_found, "no such payment intent"));
    }
    return reply(JsonResponse(http::status::ok, intent->body));
  }
  if (seg.size() == 4 && seg[1] == "payment-intents" && seg[3] == "status") {
    if (method != http::verb::post) return reply(NotAllowed("POST"));
    return reply(SetStatus(seg[2], req));
  }
  if (seg.size() == 4 && seg[1] == "payment-intents" && seg[3] == "authorize") {
    if (method != http::verb::post) return reply(NotAllowed("POST"));
    return reply(AuthorizeIntent(seg[2]));
  }
  if (seg.size() == 4 && seg[1] == "payment-intents" && seg[3] == "expire") {
    if (method != http::verb::post) return reply(NotAllowed("POST"));
    return reply(ExpireIntent(seg[2]));
  }
  if (seg.size() == 4 && seg[1] == "payment-intents" && seg[3] == "refunds") {
    if (method != http::verb::get) return reply(NotAllowed("GET"));
    return reply(ListRefunds(seg[2]));
  }
  if (seg.size() == 3 && seg[1] == "webhooks" && seg[2] == "deliveries") {
    if (method == http::verb::get) {
      return reply(JsonResponse(http::status::ok, notifier_->Deliveries()));
    }
    if (method == http::verb::delete_) {
      notifier_->ClearDeliveries();
      return reply(Ok());
    }
    return reply(NotAllowed("GET, DELETE"));
  }
  if (seg.size() == 3 && seg[1] == "webhooks" && seg[2] == "send") {
    if (method != http::verb::post) return reply(NotAllowed("POST"));
    return SendWebhook(req, std::move(done));
  }
  if (seg.size() == 3 && seg[1] == "webhooks" && seg[2] == "sign") {
    if (method != http::verb::post) return reply(NotAllowed("POST"));
    return reply(SignWebhookBody(req));
  }
  if (seg.size() == 2 && seg[1] == "settings") {
    if (method == http::verb::get) return reply(Settings());
    if (method == http::verb::post) return reply(UpdateSettings(req));
    return reply(NotAllowed("GET, POST"));
  }
  if (seg.size() == 2 && seg[1] == "reset") {
    if (method != http::verb::post) return reply(NotAllowed("POST"));
    store_->Clear();
    expiry_->Reset();
    log_->Clear();
    faults_->Clear();
    store_->SetSearchLag(default_search_lag_);
    notifier_->Reset();
    routes_->SetReplayMismatchedRefunds(false);
    return reply(Ok());
  }
  reply(Error(http::status::not_found, "unknown control endpoint"));
}

Response Control::SetStatus(const std::string& id, const Request& req) {
  Response error;
  std::optional<Json> body = ParseBody(req, &error);
  if (!body) return error;
  std::string status = StringField(*body, "status");
  if (!IsPaymentIntentStatus(status)) {
    return Error(http::status::bad_request,
                 "status must be one of Created, Authorized, Captured, "
                 "Reversed, Refunded, Canceled");
  }
  std::optional<StoredIntent> intent = store_->Update(
      id, [&](StoredIntent& s) { ApplyStatus(s.body, status, Clock::now()); });
  if (!intent) return Error(http::status::not_found, "no such payment intent");
  return JsonResponse(http::status::ok, intent->body);
}

Response Control::AuthorizeIntent(const std::string& id) {
  std::string status;
  std::optional<StoredIntent> intent = store_->Update(id, [&](StoredIntent& s) {
    status = s.body["status"].get<std::string>();
    if (status == "Created") Authorize(s.body, Clock::now());
  });
  if (!intent) return Error(http::status::not_found, "no such payment intent");
  if (status != "Created") {
    return Error(http::status::conflict,
                 "only a Created payment intent can be authorized (status is " +
                     status + ")");
  }
  return JsonResponse(http::status::ok, intent->body);
}

Response Control::ExpireIntent(const std::string& id) {
  std::optional<StoredIntent> intent;
  switch (expiry_->ExpireNow(id, &intent)) {
    case AutoExpiry::Result::kNotFound:
      return Error(http::status::not_found, "no such payment intent");
    case AutoExpiry::Result::kNotAuthorized:
      return Error(http::status::conflict,
                   "only an Authorized payment intent can expire (status is " +
                       intent->body["status"].get<std::string>() + ")");
    case AutoExpiry::Result::kNotManual:
      return Error(http::status::conflict,
                   "only a payment intent with captureMode Manual can expire");
    case AutoExpiry::Result::kExpired:
      break;
  }
  return JsonResponse(http::status::ok, intent->body);
}

Response Control::ListRefunds(const std::string& id) {
  std::optional<StoredIntent> intent = store_->Get(id);
  if (!intent) return Error(http::status::not_found, "no such payment intent");
  Json data = Json::array();
  for (const RefundRecord& r : intent->refunds) {
    data.push_back({{"refundId", r.refund_id},
                    {"idempotencyKey", r.idempotency_key},
                    {"amount", r.amount},
                    {"refundReason", r.refund_reason},
                    {"notes", r.notes},
                    {"previousTransactionId", r.previous_transaction_id},
                    {"createdAt", r.created_at}});
  }
  return JsonResponse(http::status::ok, Json{{"data", std::move(data)}});
}

Response Control::ListIntents(const Target& target) {
  std::optional<std::string> reference = QueryParam(target.query, "reference");
  std::vector<StoredIntent> intents =
      reference ? store_->FindByReference(*reference) : store_->List("");
  std::optional<std::string> account = QueryParam(target.query, "account");
  Json data = Json::array();
  for (const StoredIntent& intent : intents) {
    if (account && intent.account != *account) continue;
    data.push_back(intent.body);
  }
  return JsonResponse(http::status::ok, Json{{"data", std::move(data)}});
}

Response Control::BulkCreate(const Request& req) {
  Response error;
  std::optional<Json> body = ParseBody(req, &error);
  if (!body) return error;
  for (const auto& [key, value] : body->items()) {
    if (key != "account" && key != "count" && key != "referencePrefix" &&
        key != "amount" && key != "createdAt") {
      return Error(http::status::bad_request, "unknown field '" + key + "'");
    }
  }
  std::string account = StringField(*body, "account");
  if (account.empty()) {
    return Error(http::status::bad_request,
                 "account must be a non-empty account name");
  }
  auto count_it = body->find("count");
  if (count_it == body->end() || !count_it->is_number_integer() ||
      count_it->get<int64_t>() < 1 || count_it->get<int64_t>() > 100000) {
    return Error(http::status::bad_request,
                 "count must be an integer in 1..100000");
  }
  const size_t count = count_it->get<size_t>();
  auto prefix_it = body->find("referencePrefix");
  if (prefix_it != body->end() && !prefix_it->is_string()) {
    return Error(http::status::bad_request, "referencePrefix must be a string");
  }
  const std::string prefix = StringField(*body, "referencePrefix", "bulk-");
  TimePoint created_at = Clock::now();
  if (auto it = body->find("createdAt"); it != body->end()) {
    std::optional<TimePoint> parsed;
    if (it->is_string()) parsed = ParseTimestamp(it->get<std::string>());
    if (!parsed) {
      return Error(http::status::bad_request,
                   "createdAt must be an ISO 8601 date-time");
    }
    created_at = *parsed;
  }
  Json amount = {{"value", 100}, {"currencyCode", "GBP"}};
  if (auto it = body->find("amount"); it != body->end()) amount = *it;

  // The intents must be ones Dojo could have created: check the longest
  // reference against the real create validation.
  Json request = {{"amount", amount},
                  {"reference", prefix + std::to_string(count - 1)}};
  Json errors = ValidateCreatePaymentIntent(request.dump(), Clock::now());
  if (!errors.empty()) {
    return JsonResponse(
        http::status::bad_request,
        Json{{"error", "the intents would not be valid"}, {"errors", errors}});
  }
  const Json prototype = BuildPaymentIntent(NewIntentId(), request, created_at);
  store_->InsertMany(account, created_at, count, [&](size_t i) {
    Json intent = prototype;
    std::string id = NewIntentId();
    intent["id"] = id;
    intent["reference"] = prefix + std::to_string(i);
    intent["paymentLink"] = "https://pay.dojo.tech:443/checkout/" + id;
    return intent;
  });
  return JsonResponse(http::status::ok, Json{{"created", count}});
}

Response Control::Settings() const {
  std::string url = notifier_->Url();
  return JsonResponse(
      http::status::ok,
      Json{{"searchLagMs", store_->SearchLag().count()},
           {"webhookUrl", url.empty() ? Json() : Json(url)},
           {"webhookSecretSet", notifier_->HasSecret()},
           {"autoExpireScale", expiry_->Scale()},
           {"refundKeyReuse",
            routes_->ReplayMismatchedRefunds() ? "replay" : "conflict"}});
}

Response Control::UpdateSettings(const Request& req) {
  Response error;
  std::optional<Json> body = ParseBody(req, &error);
  if (!body) return error;
  // Check every field before changing any.
  std::optional<int64_t> search_lag_ms;
  std::optional<std::string> webhook_url, webhook_secret;
  std::optional<double> auto_expire_scale;
  std::optional<bool> replay;
  for (const auto& [key, value] : body->items()) {
    if (key == "searchLagMs") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
          value.get<int64_t>() > 3600 * 1000) {
        return Error(http::status::bad_request,
                     "searchLagMs must be an integer in 0..3600000");
      }
      search_lag_ms = value.get<int64_t>();
    } else if (key == "webhookUrl") {
      if (!value.is_null() && !value.is_string()) {
        return Error(http::status::bad_request,
                     "webhookUrl must be a string or null");
      }
      webhook_url = value.is_null() ? "" : value.get<std::string>();
      if (!webhook_url->empty() &&
          !WebhookClient::IsSupportedUrl(*webhook_url)) {
        return Error(http::status::bad_request,
                     "webhookUrl must look like http://host[:port][/path]");
      }
    } else if (key == "webhookSecret") {
      if (!value.is_null() && !value.is_string()) {
        return Error(http::status::bad_request,
                     "webhookSecret must be a string or null");
      }
      webhook_secret = value.is_null() ? "" : value.get<std::string>();
    } else if (key == "autoExpireScale") {
      if (!value.is_number() ||
          !AutoExpiry::IsValidScale(value.get<double>())) {
        return Error(http::status::bad_request,
                     "autoExpireScale must be a number in (0, 1]");
      }
      auto_expire_scale = value.get<double>();
    } else if (key == "refundKeyReuse") {
      if (value != "conflict" && value != "replay") {
        return Error(http::status::bad_request,
                     "refundKeyReuse must be \"conflict\" or \"replay\"");
      }
      replay = value == "replay";
    } else {
      return Error(http::status::bad_request, "unknown setting '" + key + "'");
    }
  }
  if (search_lag_ms) {
    store_->SetSearchLag(std::chrono::milliseconds(*search_lag_ms));
  }
  if (webhook_url || webhook_secret) {
    notifier_->Configure(webhook_url, webhook_secret);
  }
  if (auto_expire_scale) expiry_->SetScale(*auto_expire_scale);
  if (replay) routes_->SetReplayMismatchedRefunds(*replay);
  return Settings();
}

Response Control::AddFault(const Request& req) {
  Response error;
  std::optional<Json> body = ParseBody(req, &error);
  if (!body) return error;
  uint64_t id = 0;
  if (auto message = faults_->Add(*body, &id)) {
    return Error(http::status::bad_request, *message);
  }
  return JsonResponse(http::status::ok, Json{{"id", id}});
}

void Control::SendWebhook(const Request& req, ReplyCallback done) {
  Response error;
  std::optional<Json> body = ParseBody(req, &error);
  if (!body) return done(Reply{std::move(error)});
  auto secret = body->find("secret");
  if (secret == body->end() || !secret->is_string()) {
    return done(
        Reply{Error(http::status::bad_request, "secret must be a string")});
  }
  std::string url = StringField(*body, "url");
  if (!url.empty() && !WebhookClient::IsSupportedUrl(url)) {
    return done(Reply{Error(http::status::bad_request,
                            "url must look like http://host[:port][/path]")});
  }
  WebhookEvent event;
  event.payment_intent_id = StringField(*body, "paymentIntentId");
  event.payment_status = StringField(*body, "paymentStatus");
  event.capture_mode = StringField(*body, "captureMode");
  event.account_id = StringField(*body, "accountId");
  // Fields not given explicitly come from the stored intent.
  if (event.payment_status.empty() || event.capture_mode.empty() ||
      event.account_id.empty()) {
    std::optional<StoredIntent> intent = store_->Get(event.payment_intent_id);
    if (!intent) {
      return done(
          Reply{Error(http::status::not_found, "no such payment intent")});
    }
    if (event.payment_status.empty()) {
      event.payment_status = intent->body["status"].get<std::string>();
    }
    if (event.capture_mode.empty()) {
      event.capture_mode = intent->body["captureMode"].get<std::string>();
    }
    if (event.account_id.empty()) event.account_id = "acc_" + intent->account;
  }
  event.id = StringField(*body, "eventId", NewEventId());
  event.event = StringField(*body, "event", "payment_intent.status_updated");
  event.created_at =
      StringField(*body, "createdAt", FormatTimestamp(Clock::now()));
  std::string payload = WebhookPayload(event);
  std::string signature = SignWebhook(secret->get<std::string>(), payload);

  auto respond = [payload, signature, done](int delivery_status) {
    done(Reply{JsonResponse(http::status::ok,
                            Json{{"body", payload},
                                 {"signature", signature},
                                 {"deliveryStatus", delivery_status}})});
  };
  if (url.empty()) return respond(0);
  webhooks_->Post(url, payload, signature, std::move(respond));
}

Response Control::SignWebhookBody(const Request& req) {
  Response error;
  std::optional<Json> body = ParseBody(req, &error);
  if (!body) return error;
  auto secret = body->find("secret");
  auto payload = body->find("body");
  if (secret == body->end() || !secret->is_string() || payload == body->end() ||
      !payload->is_string()) {
    return Error(http::status::bad_request, "secret and body must be strings");
  }
  return JsonResponse(
      http::status::ok,
      Json{{"signature", SignWebhook(secret->get<std::string>(),
                                     payload->get<std::string>())}});
}

}  // namespace dojo_emulator
