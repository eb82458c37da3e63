#ifndef CLIENT_CTL_RESPONSE_PRINTER_H_
#define CLIENT_CTL_RESPONSE_PRINTER_H_

// paymentsctl's output: a short human summary of each response, or the
// response as proto JSON (lowerCamelCase names, as grpcurl and buf curl
// print them) with --json.
//
// Client session secrets: they are the output of the call, so --json prints
// them (it is meant for programs that hand the secret to a browser). The
// human summary hides them unless `show_secret` is set, so a secret does not
// end up in a terminal scrollback or a pasted log by accident.

#include <string>

#include "google/protobuf/message.h"
#include "payments/v1/payments_service.pb.h"

namespace payments::ctl {

struct PrintOptions {
  bool json = false;
  bool show_secret = false;
};

// Proto JSON, indented, ending in a newline.
std::string ToJson(const google::protobuf::Message& message);

// "10.00 GBP" for 1000 GBP (two decimals: Dojo's currencies, GBP and EUR).
std::string FormatMoney(const v1::Money& money);

std::string PrintCreateIntent(const v1::CreateIntentResponse& response,
                              const PrintOptions& options);
std::string PrintGetIntent(const v1::GetIntentResponse& response,
                           const PrintOptions& options);
std::string PrintPaymentLink(const v1::CreatePaymentLinkResponse& response,
                             const PrintOptions& options);
std::string PrintRefreshSecret(
    const v1::RefreshClientSessionSecretResponse& response,
    const PrintOptions& options);
std::string PrintVerifyWebhook(const v1::VerifyWebhookResponse& response,
                               const PrintOptions& options);
// The lifecycle: the operation's Dojo id (and a refund's amount), then the
// intent as read back after it.
std::string PrintCancel(const v1::CancelIntentResponse& response,
                        const PrintOptions& options);
std::string PrintCapture(const v1::CaptureIntentResponse& response,
                         const PrintOptions& options);
std::string PrintReverse(const v1::ReverseIntentResponse& response,
                         const PrintOptions& options);
std::string PrintRefund(const v1::RefundIntentResponse& response,
                        const PrintOptions& options);
std::string PrintGetRefund(const v1::GetRefundResponse& response,
                           const PrintOptions& options);
// One line per intent, then the next page token if any.
std::string PrintListIntents(const v1::ListIntentsResponse& response,
                             const PrintOptions& options);

}  // namespace payments::ctl

#endif  // CLIENT_CTL_RESPONSE_PRINTER_H_
