// livelink_face_decoder.cpp - reads Live Link Face v6 UDP packets the way Unreal's stock
// Apple ARKit Face Support Live Link source does, without Unreal.
//
// Why this exists: the "zero-plugin" route (the sidecar's `--livelink` packets -> Unreal's
// Apple ARKit Live Link source -> a MetaHuman) can only be proven here without an engine if
// something reads the packets with the engine's own rules. This file restates those rules in
// plain C++17 (written from a reading of FAppleARKitLiveLinkRemoteListener::Tick in
// AppleARKitFaceSupport/Private/AppleARKitLiveLinkSource.cpp and FNboSerializeFromBuffer in
// OnlineBase's NboSerializer.h, UE 5.x; no Epic code is copied):
//
//   1. recvfrom() into a buffer of MAX_BLEND_SHAPE_PACKET_SIZE bytes
//        = 1 (version) + 16 (FQualifiedFrameTime) + 1 (count) + 61*4 + 2 * 256*sizeof(TCHAR).
//      A larger datagram does not fit: Windows fails the receive (WSAEMSGSIZE), Linux truncates
//      it. We drop it either way (the stricter outcome).
//   2. The packet is used only if BytesRead > MIN_BLEND_SHAPE_PACKET_SIZE
//        = 1 + 16 + 1 + 61*4 + 2*sizeof(TCHAR)   (strictly greater).
//   3. uint8 version; dropped on overflow or if it is not 6.
//   4. Device id, then subject name: each an FString = int32 big-endian length, then that many
//      UTF-8 bytes. A length < 0 or beyond the bytes left is an overflow. The bytes are copied
//      into a NUL-terminated C string before conversion, so an embedded NUL ends the string.
//      Both become FNames (an empty string is NAME_None, printed "None"). There is NO check on
//      the device id's length or content: the Live Link Face app sends a 36-character UUID,
//      but any length the packet can hold is accepted.
//   5. FQualifiedFrameTime: int32 frame number, float32 subframe, int32 rate numerator, int32
//      rate denominator (all big-endian). Not validated here (the engine does not drop on them).
//   6. uint8 blend shape count; dropped on overflow or if it is not 61 (EARFaceBlendShape::MAX).
//   7. 61 big-endian float32 values in EARFaceBlendShape order; dropped on overflow.
//   8. Bytes after the 61st value are ignored (not an error).
//
// Usage:
//   livelink_face_decoder [--tchar N] CAPTURE.ebll     decode every packet of a capture file
//   livelink_face_decoder [--tchar N] --raw PACKET.bin  decode one raw packet
// Output: one JSON object per packet on stdout, e.g.
//   {"index":0,"time":0.016,"bytes":310,"accepted":true,"version":6,"device_id":"...",
//    "subject":"NPC1","frame":...,"subframe":0,"rate":[60,1],"count":61,"trailing":0,
//    "values":[...61 numbers, %.9g so float32 values round-trip exactly...]}
//   {"index":1,"time":...,"bytes":12,"accepted":false,"reason":"..."}
// then a summary line {"summary":true,"packets":N,"accepted":A,"dropped":D}.
// Exit status: 0 when the file was read (whatever was dropped), 2 on usage or file errors.
//
// Capture file format (.ebll, written by engine_plugins/unreal/tools/replay_livelink.py):
//   8 bytes magic "EBLLCAP1", then per packet: float64 big-endian arrival time in seconds since
//   the capture started, uint32 big-endian length L, then L bytes of the UDP payload.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

constexpr int kPacketVersion = 6;    // BLEND_SHAPE_PACKET_VER in UE 4.26+ / 5.x
constexpr int kCurveCount = 61;      // EARFaceBlendShape::MAX
constexpr size_t kFrameTimeBytes = 16;  // sizeof(FQualifiedFrameTime): int32 + float + 2 x int32

size_t max_packet_size(size_t tchar) { return 1 + kFrameTimeBytes + 1 + 4 * kCurveCount + 2 * 256 * tchar; }
size_t min_packet_size(size_t tchar) { return 1 + kFrameTimeBytes + 1 + 4 * kCurveCount + 2 * tchar; }

// FNboSerializeFromBuffer's rules: every read checks the bytes left; once a read overflows,
// every later read fails too, and the caller checks HasOverflow() at its checkpoints.
class NboReader {
 public:
  NboReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool overflow() const { return overflow_; }
  size_t offset() const { return offset_; }

  uint8_t u8() {
    if (overflow_ || offset_ + 1 > size_) return fail(), 0;
    return data_[offset_++];
  }
  uint32_t u32() {
    if (overflow_ || offset_ + 4 > size_) return fail(), 0;
    const uint8_t* p = data_ + offset_;
    offset_ += 4;
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  float f32() {
    uint32_t bits = u32();
    float value;
    std::memcpy(&value, &bits, sizeof value);  // the bit pattern, as the engine reinterprets it
    return value;
  }
  // FString: int32 length, then UTF-8 bytes; the engine NUL-terminates a copy, so the string
  // ends at the first NUL byte.
  std::string fstring() {
    int32_t length = i32();
    if (overflow_) return {};
    if (length < 0 || size_t(length) > size_ - offset_) return fail(), std::string();
    const char* start = reinterpret_cast<const char*>(data_ + offset_);
    offset_ += size_t(length);
    return std::string(start, strnlen(start, size_t(length)));
  }

 private:
  void fail() { overflow_ = true; }
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
  bool overflow_ = false;
};

struct Decoded {
  bool accepted = false;
  std::string reason;
  int version = 0;
  std::string device_id, subject;
  int32_t frame = 0, rate_num = 0, rate_den = 0;
  float subframe = 0.f;
  int count = 0;
  float values[kCurveCount] = {};
  size_t trailing = 0;
};

std::string fname(const std::string& s) { return s.empty() ? "None" : s; }

Decoded decode(const uint8_t* data, size_t size, size_t tchar) {
  Decoded d;
  if (size > max_packet_size(tchar)) {
    d.reason = "larger than the engine's receive buffer (" + std::to_string(max_packet_size(tchar)) + " bytes)";
    return d;
  }
  if (size <= min_packet_size(tchar)) {
    d.reason = "not longer than MIN_BLEND_SHAPE_PACKET_SIZE (" + std::to_string(min_packet_size(tchar)) + " bytes)";
    return d;
  }
  NboReader in(data, size);
  d.version = in.u8();
  if (in.overflow() || d.version != kPacketVersion) {
    d.reason = "packet version " + std::to_string(d.version) + " is not 6";
    return d;
  }
  d.device_id = fname(in.fstring());
  d.subject = fname(in.fstring());
  d.frame = in.i32();
  d.subframe = in.f32();
  d.rate_num = in.i32();
  d.rate_den = in.i32();
  d.count = in.u8();
  if (in.overflow() || d.count != kCurveCount) {
    d.reason = in.overflow() ? "overflow reading the header fields (a string length runs past the packet)"
                             : "blend shape count " + std::to_string(d.count) + " is not 61";
    return d;
  }
  for (int i = 0; i < kCurveCount && !in.overflow(); ++i) d.values[i] = in.f32();
  if (in.overflow()) {
    d.reason = "overflow reading the 61 curve values";
    return d;
  }
  d.trailing = size - in.offset();
  d.accepted = true;
  return d;
}

void put_json_string(const std::string& s) {
  std::putchar('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') std::printf("\\%c", c);
    else if (c < 0x20) std::printf("\\u%04x", c);
    else std::putchar(c);  // UTF-8 passes through unchanged
  }
  std::putchar('"');
}

void put_number(double v) {
  if (std::isfinite(v)) std::printf("%.9g", v);
  else std::printf("null");  // JSON has no NaN/inf; the engine would pass them on as they are
}

void print(size_t index, double time, size_t size, const Decoded& d) {
  std::printf("{\"index\":%zu,\"time\":%.9f,\"bytes\":%zu,\"accepted\":%s", index, time, size,
              d.accepted ? "true" : "false");
  if (!d.accepted) {
    std::printf(",\"reason\":");
    put_json_string(d.reason);
    std::printf("}\n");
    return;
  }
  std::printf(",\"version\":%d,\"device_id\":", d.version);
  put_json_string(d.device_id);
  std::printf(",\"subject\":");
  put_json_string(d.subject);
  std::printf(",\"frame\":%d,\"subframe\":", d.frame);
  put_number(d.subframe);
  std::printf(",\"rate\":[%d,%d],\"count\":%d,\"trailing\":%zu,\"values\":[", d.rate_num, d.rate_den, d.count,
              d.trailing);
  for (int i = 0; i < kCurveCount; ++i) {
    if (i) std::putchar(',');
    put_number(d.values[i]);
  }
  std::printf("]}\n");
}

bool read_file(const char* path, std::vector<uint8_t>* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  out->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  size_t tchar = 2;  // sizeof(TCHAR): 2 on Windows and Linux (UE5); Mac is 2 or 4 (PLATFORM_MAC_USE_CHAR16)
  bool raw = false;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--tchar" && i + 1 < argc) tchar = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--raw") raw = true;
    else if (!path) path = argv[i];
    else path = nullptr, i = argc;
  }
  if (!path || (tchar != 1 && tchar != 2 && tchar != 4)) {
    std::fprintf(stderr, "usage: livelink_face_decoder [--tchar 1|2|4] (CAPTURE.ebll | --raw PACKET.bin)\n");
    return 2;
  }
  std::vector<uint8_t> bytes;
  if (!read_file(path, &bytes)) {
    std::fprintf(stderr, "livelink_face_decoder: cannot read %s\n", path);
    return 2;
  }
  size_t packets = 0, accepted = 0;
  if (raw) {
    Decoded d = decode(bytes.data(), bytes.size(), tchar);
    print(0, 0.0, bytes.size(), d);
    packets = 1, accepted = d.accepted;
  } else {
    if (bytes.size() < 8 || std::memcmp(bytes.data(), "EBLLCAP1", 8) != 0) {
      std::fprintf(stderr, "livelink_face_decoder: %s is not an EBLLCAP1 capture\n", path);
      return 2;
    }
    size_t pos = 8;
    while (pos < bytes.size()) {
      if (bytes.size() - pos < 12) {
        std::fprintf(stderr, "livelink_face_decoder: capture ends inside a record header\n");
        return 2;
      }
      uint64_t time_bits = be64(&bytes[pos]);
      double time;
      std::memcpy(&time, &time_bits, sizeof time);
      uint32_t length = uint32_t(bytes[pos + 8]) << 24 | uint32_t(bytes[pos + 9]) << 16 |
                        uint32_t(bytes[pos + 10]) << 8 | uint32_t(bytes[pos + 11]);
      pos += 12;
      if (bytes.size() - pos < length) {
        std::fprintf(stderr, "livelink_face_decoder: capture ends inside packet %zu\n", packets);
        return 2;
      }
      Decoded d = decode(&bytes[pos], length, tchar);
      print(packets, time, length, d);
      pos += length;
      ++packets;
      accepted += d.accepted;
    }
  }
  std::printf("{\"summary\":true,\"packets\":%zu,\"accepted\":%zu,\"dropped\":%zu}\n", packets, accepted,
              packets - accepted);
  return 0;
}
