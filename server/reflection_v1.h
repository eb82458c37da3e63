#ifndef SERVER_REFLECTION_V1_H_
#define SERVER_REFLECTION_V1_H_

// grpc.reflection.v1.ServerReflection, which gRPC 1.51 lacks (its plugin
// serves only grpc.reflection.v1alpha, and clients such as grpcurl and
// buf curl try v1 first). It answers from the same descriptor pool as the
// v1alpha service (the generated pool) and lists the same services: every
// service registered on the server, read when the server is built.

#include <memory>

#include "grpcpp/server_builder.h"

namespace payments::server {

// Adds the v1 reflection service to `builder`, as a builder plugin so that it
// sees the final list of services. Call before BuildAndStart().
void AddReflectionV1(grpc::ServerBuilder& builder);

}  // namespace payments::server

#endif  // SERVER_REFLECTION_V1_H_
