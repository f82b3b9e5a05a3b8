// A sidecar address: the one gRPC channel that every stream of a client shares.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

namespace eb {

struct Client {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
};

// Makes the channel; with timeout_ms > 0 also waits for it to connect. Returns an eb_result.
int32_t connect_client(const std::string& address, uint32_t timeout_ms, std::shared_ptr<Client>* out);

// The sidecar's GetInfo reply as JSON (proto field names, every field printed). Returns an eb_result.
int32_t get_info_json(const Client& client, uint32_t timeout_ms, std::string* json);

}  // namespace eb
