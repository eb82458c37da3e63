#ifndef LIB_WEBHOOK_WEBHOOK_SECRET_H_
#define LIB_WEBHOOK_WEBHOOK_SECRET_H_

#include <string>

namespace payments::webhook {

// One Dojo webhook signing secret. `id` names it in logs and results (it is
// not secret); `secret` is the string exactly as Dojo issued it.
struct WebhookSecret {
  std::string id;
  std::string secret;
};

}  // namespace payments::webhook

#endif  // LIB_WEBHOOK_WEBHOOK_SECRET_H_
