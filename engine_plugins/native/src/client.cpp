#include "client.h"

#include <chrono>

#include <google/protobuf/util/json_util.h>

#include "emobridge.h"
#include "emobridge/v1/emobridge.grpc.pb.h"
#include "errors.h"
#include "wire.h"

namespace eb {

int32_t connect_client(const std::string& address, uint32_t timeout_ms, std::shared_ptr<Client>* out) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);  // as the Python client: whole Bake replies fit
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  // gRPC's own reconnect backoff defaults to 1 s growing to 120 s; a restarted sidecar should be
  // found within a couple of seconds, like the streams' own retry backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // One client, one connection: gRPC would otherwise share a connection among channels with equal
  // arguments, and a sidecar run with --workers spreads work by connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  if (!channel) return fail(EB_ERR_UNAVAILABLE, "could not create a channel to '" + address + "'");
  if (timeout_ms > 0) {
    auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (!channel->WaitForConnected(deadline))
      return fail(EB_ERR_UNAVAILABLE, "no sidecar answered at '" + address + "' within " +
                                          std::to_string(timeout_ms) + " ms (is `emobridge serve` running?)");
  }
  *out = std::make_shared<Client>(Client{address, std::move(channel)});
  return EB_OK;
}

int32_t get_info_json(const Client& client, uint32_t timeout_ms, std::string* json) {
  pb::GetInfoResponse reply;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  grpc::Status status = pb::EmoBridge::NewStub(client.channel)->GetInfo(&context, pb::GetInfoRequest(), &reply);
  if (!status.ok()) return fail_call(status, "GetInfo", timeout_ms);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;   // model_name, rig_profiles...: as the proto and the docs spell them
  options.always_print_primitive_fields = true;  // active_streams 0 is an answer, not a missing field
  if (!google::protobuf::util::MessageToJsonString(reply, json, options).ok())
    return fail(EB_ERR_INTERNAL, "GetInfo reply could not be written as JSON");
  return EB_OK;
}

}  // namespace eb
