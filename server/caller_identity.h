#ifndef SERVER_CALLER_IDENTITY_H_
#define SERVER_CALLER_IDENTITY_H_

// Who is calling, from the client certificate the TLS handshake verified.

#include <string>

#include "google/protobuf/message.h"
#include "grpcpp/security/auth_context.h"

namespace payments::server {

// The caller's identity: the certificate's URI SAN (a SPIFFE id such as
// spiffe://prod.example/ns/shop/sa/checkout; the first URI SAN when there
// are several), else its first DNS SAN, else its subject common name.
// "anonymous" when the peer presented no verified certificate (plaintext,
// or TLS without client certificates).
std::string CallerIdentity(const grpc::AuthContext* context);

// The request's `account` field read through its descriptor, so that every
// RPC is covered; "default" when empty or absent.
std::string RequestAccount(const google::protobuf::Message& request);

}  // namespace payments::server

#endif  // SERVER_CALLER_IDENTITY_H_
