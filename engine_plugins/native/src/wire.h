// Between the generated protobuf messages and the C ABI's plain structs: frames out of the wire,
// emotions onto it, and gRPC status codes by name. Shared by streams and bakes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "emobridge.h"
#include "emobridge/v1/emobridge.grpc.pb.h"

namespace eb {

namespace pb = ::emobridge::v1;
// An emotion as the caller gave it: (basis name or alias, intensity in 0..1) pairs.
using Emotion = std::vector<std::pair<std::string, float>>;

pb::Emotion emotion_to_proto(const Emotion& emotion);
// Weights, rotations and emotion of a wire frame; index, time and connection are the caller's to set.
eb_frame frame_from_proto(const pb::Frame& frame);
// "INVALID_ARGUMENT", "UNAVAILABLE", ...
const char* status_code_name(grpc::StatusCode code);
// A failed unary call (`what`: "the bake", "GetInfo") as an eb_result with its reason set: what the caller can
// do about it decides the code (a refused request, no sidecar or no reply within timeout_ms, or a bug).
int32_t fail_call(const grpc::Status& status, const std::string& what, uint32_t timeout_ms);

}  // namespace eb
