#include "server/grpc_status.h"

#include <string>

#include "absl/strings/match.h"
#include "google/rpc/status.pb.h"

namespace payments::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  status.ForEachPayload(
      [&rich](absl::string_view type_url, const absl::Cord& payload) {
        if (!absl::StartsWith(type_url, "type.googleapis.com/google.rpc.")) {
          return;  // Internal payloads stay internal.
        }
        auto* any = rich.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
      });
  if (rich.details_size() == 0) return grpc::Status(code, message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace payments::server
