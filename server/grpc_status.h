#ifndef SERVER_GRPC_STATUS_H_
#define SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace payments::server {

// absl::Status -> grpc::Status. Details stored as payloads (see
// lib/common/status_details.h) become google.rpc.Status details in the
// `grpc-status-details-bin` trailer.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace payments::server

#endif  // SERVER_GRPC_STATUS_H_
