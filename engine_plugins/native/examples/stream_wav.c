/* stream_wav: the smallest complete use of the C ABI. Streams a 16-bit PCM wav to a sidecar in
 * 20 ms pieces and prints one line per frame (index, time, jawOpen, happy).
 *
 *   eb_stream_wav localhost:50051 examples/hello.wav [emotion=value]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emobridge.h"

#define JAW_OPEN 17 /* index of jawOpen in the canonical ARKit order */

/* Reads a PCM16 wav: returns the samples (malloc'd) and sets rate, channels and frame count. */
static int16_t *read_wav(const char *path, uint32_t *rate, uint32_t *channels, size_t *frames) {
  FILE *f = fopen(path, "rb");
  unsigned char h[12], chunk[8];
  int16_t *data = NULL;
  uint16_t bits = 0;
  if (!f || fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4)) goto fail;
  while (fread(chunk, 1, 8, f) == 8) {
    uint32_t size = chunk[4] | chunk[5] << 8 | chunk[6] << 16 | (uint32_t)chunk[7] << 24;
    if (!memcmp(chunk, "fmt ", 4)) {
      unsigned char fmt[16];
      if (size < 16 || fread(fmt, 1, 16, f) != 16) goto fail;
      *channels = fmt[2] | fmt[3] << 8;
      *rate = fmt[4] | fmt[5] << 8 | fmt[6] << 16 | (uint32_t)fmt[7] << 24;
      bits = fmt[14] | fmt[15] << 8;
      fseek(f, (long)(size - 16 + (size & 1)), SEEK_CUR);
    } else if (!memcmp(chunk, "data", 4)) {
      if (bits != 16 || *channels == 0) goto fail;
      data = malloc(size ? size : 1);
      if (!data || fread(data, 1, size, f) != size) goto fail;
      *frames = size / 2 / *channels; /* little-endian host assumed, as every engine platform is */
      fclose(f);
      return data;
    } else {
      fseek(f, (long)(size + (size & 1)), SEEK_CUR);
    }
  }
fail:
  fprintf(stderr, "%s: not a 16-bit PCM wav\n", path);
  free(data);
  if (f) fclose(f);
  return NULL;
}

static void print_frames(eb_stream *stream) {
  eb_frame frames[64];
  size_t n = 0;
  while (eb_stream_drain(stream, frames, 64, &n) == EB_OK && n > 0)
    for (size_t i = 0; i < n; ++i)
      printf("frame %4llu  t=%6.3f  jawOpen=%.3f  happy=%.3f\n", (unsigned long long)frames[i].index,
             frames[i].time_seconds, frames[i].weights[JAW_OPEN], frames[i].emotion[0]);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s HOST:PORT FILE.wav [emotion=value]\n", argv[0]);
    return 2;
  }
  uint32_t rate = 0, channels = 0;
  size_t frames = 0;
  int16_t *audio = read_wav(argv[2], &rate, &channels, &frames);
  if (!audio) return 1;

  eb_client *client = NULL;
  if (eb_client_connect(argv[1], 5000, &client) != EB_OK) {
    fprintf(stderr, "connect: %s\n", eb_last_error());
    return 1;
  }
  eb_stream_config config;
  eb_stream_config_init(&config);
  config.sample_rate = rate;
  config.channels = channels;
  char name[64] = "";
  float value = 0.0f;
  const char *names[1] = {name};
  if (argc > 3 && sscanf(argv[3], "%63[^=]=%f", name, &value) == 2) {
    config.emotion_names = names;
    config.emotion_values = &value;
    config.emotion_count = 1;
  }
  eb_stream *stream = NULL;
  if (eb_stream_open(client, &config, &stream) != EB_OK) {
    fprintf(stderr, "open: %s\n", eb_last_error());
    return 1;
  }

  /* Push 20 ms at a time, as a live source would; a full queue just means "wait a little". */
  size_t step = rate / 50;
  for (size_t at = 0; at < frames;) {
    size_t n = frames - at < step ? frames - at : step;
    int32_t r = eb_stream_push_s16(stream, audio + at * channels, n);
    if (r == EB_OK) at += n;
    else if (r == EB_ERR_QUEUE_FULL) eb_stream_wait(stream, 20);
    else {
      fprintf(stderr, "push: %s\n", eb_last_error());
      break;
    }
    print_frames(stream);
  }
  eb_stream_end_audio(stream);

  int32_t state = EB_STATE_CONNECTING;
  while (eb_stream_get_state(stream, &state) == EB_OK && state != EB_STATE_ENDED && state != EB_STATE_FAILED) {
    eb_stream_wait(stream, 1000);
    print_frames(stream);
  }
  print_frames(stream);
  char error[256];
  eb_stream_get_error(stream, error, sizeof error, NULL);
  printf("stream %s%s%s\n", eb_state_name(state), error[0] ? ": " : "", error);

  eb_stream_close(stream);
  eb_client_close(client);
  free(audio);
  return state == EB_STATE_ENDED ? 0 : 1;
}
