#include "server/caller_identity.h"

#include "grpc/grpc_security_constants.h"
#include "lib/auth/access_control.h"
#include "lib/config/server_config.h"

namespace payments::server {
namespace {

constexpr size_t kMaxIdentityLength = 512;

std::string First(const grpc::AuthContext& context, const char* property) {
  for (const grpc::string_ref& value : context.FindPropertyValues(property)) {
    if (value.empty()) continue;
    std::string text(value.data(), value.size());
    if (text.size() > kMaxIdentityLength) text.resize(kMaxIdentityLength);
    return text;
  }
  return "";
}

}  // namespace

std::string CallerIdentity(const grpc::AuthContext* context) {
  if (context == nullptr || !context->IsPeerAuthenticated()) {
    return std::string(auth::kAnonymousCaller);
  }
  for (const char* property :
       {GRPC_PEER_SPIFFE_ID_PROPERTY_NAME, GRPC_PEER_URI_PROPERTY_NAME,
        GRPC_PEER_DNS_PROPERTY_NAME, GRPC_X509_CN_PROPERTY_NAME}) {
    std::string identity = First(*context, property);
    if (!identity.empty()) return identity;
  }
  return std::string(auth::kAnonymousCaller);
}

std::string RequestAccount(const google::protobuf::Message& request) {
  const auto* field = request.GetDescriptor()->FindFieldByName("account");
  if (field == nullptr ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return std::string(config::kDefaultAccount);
  }
  std::string account = request.GetReflection()->GetString(request, field);
  return account.empty() ? std::string(config::kDefaultAccount) : account;
}

}  // namespace payments::server
