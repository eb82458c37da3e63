#include "server/reflection_v1.h"

#include <set>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/impl/server_initializer.h"

namespace payments::server {
namespace {

namespace v1 = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

// The file and, recursively, every file it imports, each once per answer
// (what v1alpha sends).
void AddFileAndDependencies(const FileDescriptor* file,
                            std::set<std::string>& sent,
                            v1::FileDescriptorResponse& out) {
  if (!sent.insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  proto.SerializeToString(out.add_file_descriptor_proto());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileAndDependencies(file->dependency(i), sent, out);
  }
}

void Answer(const std::vector<std::string>& services,
            const v1::ServerReflectionRequest& request,
            v1::ServerReflectionResponse& response) {
  const DescriptorPool& pool = *DescriptorPool::generated_pool();
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  auto error = [&response](grpc::StatusCode code, const char* message) {
    response.mutable_error_response()->set_error_code(code);
    response.mutable_error_response()->set_error_message(message);
  };
  const FileDescriptor* file = nullptr;
  switch (request.message_request_case()) {
    case v1::ServerReflectionRequest::kListServices:
      for (const std::string& name : services) {
        response.mutable_list_services_response()->add_service()->set_name(
            name);
      }
      return;
    case v1::ServerReflectionRequest::kFileByFilename:
      file = pool.FindFileByName(request.file_by_filename());
      if (file == nullptr) return error(grpc::NOT_FOUND, "File not found.");
      break;
    case v1::ServerReflectionRequest::kFileContainingSymbol:
      file = pool.FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) return error(grpc::NOT_FOUND, "Symbol not found.");
      break;
    case v1::ServerReflectionRequest::kFileContainingExtension: {
      const auto& wanted = request.file_containing_extension();
      const auto* type = pool.FindMessageTypeByName(wanted.containing_type());
      if (type == nullptr) return error(grpc::NOT_FOUND, "Type not found.");
      const auto* extension =
          pool.FindExtensionByNumber(type, wanted.extension_number());
      if (extension == nullptr) {
        return error(grpc::NOT_FOUND, "Extension not found.");
      }
      file = extension->file();
      break;
    }
    case v1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type =
          pool.FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) return error(grpc::NOT_FOUND, "Type not found.");
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool.FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* extension : extensions) {
        numbers->add_extension_number(extension->number());
      }
      return;
    }
    default:
      return error(grpc::UNIMPLEMENTED,
                   "The reflection request is not implemented.");
  }
  std::set<std::string> sent;
  AddFileAndDependencies(file, sent,
                         *response.mutable_file_descriptor_response());
}

// One stream: answers each request in turn, one write at a time.
class ReflectionStream final
    : public grpc::ServerBidiReactor<v1::ServerReflectionRequest,
                                     v1::ServerReflectionResponse> {
 public:
  explicit ReflectionStream(const std::vector<std::string>& services)
      : services_(services) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the client half-closed
    response_.Clear();
    Answer(services_, request_, response_);
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::UNKNOWN, "write failed"));
    StartRead(&request_);
  }
  void OnDone() override { delete this; }

 private:
  const std::vector<std::string>& services_;
  v1::ServerReflectionRequest request_;
  v1::ServerReflectionResponse response_;
};

class ReflectionV1Service final : public v1::ServerReflection::CallbackService {
 public:
  grpc::ServerBidiReactor<v1::ServerReflectionRequest,
                          v1::ServerReflectionResponse>*
  ServerReflectionInfo(grpc::CallbackServerContext* context) override {
    return new ReflectionStream(*services_);
  }
  // The server's list of service names: set before the server starts, filled
  // while it starts (the default health service is added then), read only
  // after.
  const std::vector<std::string>* services_ = nullptr;
};

// Registers the service with the server being built and hands it the
// server's list of service names.
class ReflectionV1Plugin final : public grpc::ServerBuilderPlugin {
 public:
  std::string name() override { return "payments_reflection_v1"; }
  void InitServer(grpc::ServerInitializer* initializer) override {
    initializer->RegisterService(service_);
    service_->services_ = initializer->GetServiceList();
  }
  void Finish(grpc::ServerInitializer*) override {}
  void ChangeArguments(const std::string&, void*) override {}
  bool has_sync_methods() const override { return false; }
  bool has_async_methods() const override { return false; }

 private:
  const std::shared_ptr<ReflectionV1Service> service_ =
      std::make_shared<ReflectionV1Service>();
};

class ReflectionV1Option final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->push_back(std::make_unique<ReflectionV1Plugin>());
  }
};

}  // namespace

void AddReflectionV1(grpc::ServerBuilder& builder) {
  builder.SetOption(std::make_unique<ReflectionV1Option>());
}

}  // namespace payments::server
