#include "wire.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "errors.h"

namespace eb {

namespace {

eb_rotation rotation_from_proto(const pb::Rotation& r) { return {r.yaw(), r.pitch(), r.roll()}; }

}  // namespace

pb::Emotion emotion_to_proto(const Emotion& emotion) {
  pb::Emotion message;
  for (const auto& [name, value] : emotion) (*message.mutable_intensities())[name] = value;
  return message;
}

eb_frame frame_from_proto(const pb::Frame& frame) {
  eb_frame out{};
  out.weight_count = uint32_t(std::min<int>(frame.weights_size(), EB_MAX_WEIGHTS));
  std::copy_n(frame.weights().begin(), out.weight_count, out.weights);
  std::copy_n(frame.emotion().begin(), std::min<int>(frame.emotion_size(), EB_NUM_EMOTIONS), out.emotion);
  out.head = rotation_from_proto(frame.head());
  out.left_eye = rotation_from_proto(frame.left_eye());
  out.right_eye = rotation_from_proto(frame.right_eye());
  return out;
}

const char* status_code_name(grpc::StatusCode code) {
  static const char* const names[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < int(std::size(names)) ? names[i] : "UNKNOWN";
}

int32_t fail_call(const grpc::Status& status, const std::string& what, uint32_t timeout_ms) {
  std::string detail = std::string(status_code_name(status.error_code())) + ": " + status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:  // e.g. a clip over the sidecar's max_bake_seconds
    case grpc::StatusCode::FAILED_PRECONDITION:
      return fail(EB_ERR_INVALID_ARGUMENT, "the sidecar refused " + what + ": " + detail);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return fail(EB_ERR_UNAVAILABLE, "the sidecar did not answer " + what + " within timeout_ms (" +
                                          std::to_string(timeout_ms) + " ms): " + detail);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      return fail(EB_ERR_UNAVAILABLE, "the sidecar could not be reached (is `emobridge serve` running?): " + detail);
    default:
      return fail(EB_ERR_INTERNAL, what + " failed: " + detail);
  }
}

}  // namespace eb
