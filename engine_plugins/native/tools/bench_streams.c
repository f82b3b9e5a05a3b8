/* bench_streams: N concurrent real-time streams through libemobridge, as an engine client drives them.
 * `emobridge bench serve --client native` runs it; it prints one JSON line with the same keys as the
 * Python driver (emobridge.cli.bench.drive_streams), so both clients' numbers compare directly.
 *
 *   eb_bench_streams HOST:PORT STREAMS FPS LOOKAHEAD_MS AUDIO.s16 [CONNECTIONS]
 *
 * AUDIO.s16 is raw 16 kHz mono little-endian PCM, streamed to every stream in 20 ms chunks on a real-time
 * schedule, stream i starting i/STREAMS of a chunk after stream 0. A frame's latency is its arrival
 * (stamped by a thread blocked in eb_stream_wait) minus the push time of the chunk that completed the audio
 * its model step needs (the frame's time plus the lookahead), so the algorithmic lookahead is excluded.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emobridge.h"

#define CHUNK 320 /* 20 ms at 16 kHz */

typedef struct {
  eb_stream *stream;
  double *sent;             /* push time of each chunk */
  atomic_size_t sent_count; /* chunks whose push time is stored (release: the time is written first) */
  double *latency;          /* one per received frame that had its chunk pushed */
  size_t latency_count, latency_capacity, frames;
  double opened, finished;
  int failed;
} bench_stream;

static size_t g_chunks;
static double g_lookahead_s;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_until(double t) {
  double wait = t - now_seconds();
  if (wait <= 0) return;
  struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
  nanosleep(&ts, NULL);
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Receives one stream's frames until it ends, stamping each frame's latency. */
/* np.percentile's linear interpolation over sorted values. */
static double percentile(const double *sorted, size_t count, double q) {
  if (!count) return 0.0;
  double at = q * (double)(count - 1);
  size_t lo = (size_t)at, hi = lo + 1 < count ? lo + 1 : lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - (double)lo);
}

static void *receive(void *arg) {
  bench_stream *s = arg;
  eb_frame frames[64];
  for (;;) {
    eb_stream_wait(s->stream, 100);
    double now = now_seconds();
    size_t n = 0;
    while (eb_stream_drain(s->stream, frames, 64, &n) == EB_OK && n > 0) {
      for (size_t i = 0; i < n; ++i) {
        double j = ceil(frames[i].time_seconds * 100 - 1e-9); /* the frame's model-rate (100 Hz) row */
        double need = ceil((j + 1) / 100 / 0.02 + g_lookahead_s / 0.02 - 1e-9) - 1;
        size_t chunk = need < (double)(g_chunks - 1) ? (size_t)need : g_chunks - 1;
        s->frames++;
        if (chunk < atomic_load_explicit(&s->sent_count, memory_order_acquire)) {
          if (s->latency_count == s->latency_capacity) {
            s->latency_capacity = s->latency_capacity ? 2 * s->latency_capacity : 1024;
            s->latency = realloc(s->latency, s->latency_capacity * sizeof(double));
            if (!s->latency) abort();
          }
          s->latency[s->latency_count++] = now - s->sent[chunk];
        }
      }
    }
    int32_t state = EB_STATE_CONNECTING;
    eb_stream_get_state(s->stream, &state);
    if (state == EB_STATE_ENDED || state == EB_STATE_FAILED || state == EB_STATE_CLOSED) {
      s->failed = state != EB_STATE_ENDED;
      s->finished = now_seconds();
      return NULL;
    }
  }
}

static int16_t *read_raw(const char *path, size_t *samples) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  int16_t *data = malloc(bytes > 0 ? (size_t)bytes : 1);
  if (data && fread(data, 1, (size_t)bytes, f) != (size_t)bytes) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *samples = (size_t)bytes / 2;
  return data;
}

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: %s HOST:PORT STREAMS FPS LOOKAHEAD_MS AUDIO.s16 [CONNECTIONS]\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[2]);
  /* Stream i rides connection i % CONNECTIONS: each eb_client is one connection, and a server run with
   * --workers hands each connection to one worker. */
  int connections = argc == 7 ? atoi(argv[6]) : 1;
  double fps = atof(argv[3]);
  g_lookahead_s = atof(argv[4]) / 1000.0;
  size_t samples = 0;
  int16_t *audio = read_raw(argv[5], &samples);
  if (n < 1 || !(fps > 0) || !audio || samples < CHUNK || connections < 1 || connections > n) {
    fprintf(stderr, "bench_streams: need STREAMS >= 1, FPS > 0, 1 <= CONNECTIONS <= STREAMS and at least 20 ms of "
                    "raw 16 kHz PCM in %s\n", argv[5]);
    return 2;
  }
  g_chunks = (samples + CHUNK - 1) / CHUNK;

  eb_client **clients = calloc((size_t)connections, sizeof *clients);
  for (int k = 0; k < connections; ++k) {
    if (eb_client_connect(argv[1], 10000, &clients[k]) != EB_OK) {
      fprintf(stderr, "connect: %s\n", eb_last_error());
      return 1;
    }
  }
  bench_stream *streams = calloc((size_t)n, sizeof *streams);
  pthread_t *receivers = calloc((size_t)n, sizeof *receivers);
  for (int i = 0; i < n; ++i) {
    eb_stream_config config;
    eb_stream_config_init(&config);
    config.fps = fps;
    config.reconnect = 0;
    config.frame_queue_capacity = 4096;
    if (eb_stream_open(clients[i % connections], &config, &streams[i].stream) != EB_OK) {
      fprintf(stderr, "open: %s\n", eb_last_error());
      return 1;
    }
    streams[i].sent = calloc(g_chunks, sizeof(double));
  }
  double start = now_seconds() + 0.1;
  for (int i = 0; i < n; ++i) {
    streams[i].opened = start + 0.02 * i / n;
    pthread_create(&receivers[i], NULL, receive, &streams[i]);
  }

  /* One feeder in time order: chunk c of stream i is due at start + 0.02 * (c + i / n). */
  for (size_t c = 0; c < g_chunks; ++c) {
    for (int i = 0; i < n; ++i) {
      bench_stream *s = &streams[i];
      sleep_until(start + 0.02 * ((double)c + (double)i / n));
      size_t count = samples - c * CHUNK < CHUNK ? samples - c * CHUNK : CHUNK;
      s->sent[c] = now_seconds();
      /* Published before the push: the server can answer before the push returns, and the receiver must
         then already count the chunk as sent (else that frame would go unmeasured). */
      atomic_store_explicit(&s->sent_count, c + 1, memory_order_release);
      if (eb_stream_push_s16(s->stream, audio + c * CHUNK, count) != EB_OK) s->failed = 1;
      if (c + 1 == g_chunks) eb_stream_end_audio(s->stream);
    }
  }

  size_t total = 0, errors = 0;
  double fps_sum = 0, fps_min = INFINITY, end = start;
  for (int i = 0; i < n; ++i) {
    pthread_join(receivers[i], NULL);
    bench_stream *s = &streams[i];
    double f = s->frames / fmax(1e-9, s->finished - s->opened);
    fps_sum += f;
    fps_min = fmin(fps_min, f);
    errors += s->failed != 0;
    total += s->latency_count;
    end = fmax(end, s->finished);
  }
  double *all = malloc((total ? total : 1) * sizeof(double));
  size_t at = 0;
  for (int i = 0; i < n; ++i) {
    memcpy(all + at, streams[i].latency, streams[i].latency_count * sizeof(double));
    at += streams[i].latency_count;
  }
  qsort(all, total, sizeof(double), compare_doubles);
#define PCT(q) (1000.0 * percentile(all, total, (q)))
  printf("{\"streams\": %d, \"frames\": %zu, \"fps_mean\": %.3f, \"fps_min\": %.3f, \"p50_ms\": %.3f, "
         "\"p95_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"errors\": %zu, \"wall_s\": %.3f}\n",
         n, total, fps_sum / n, fps_min, PCT(0.50), PCT(0.95), PCT(0.99), PCT(1.0), errors, end - start);
  for (int i = 0; i < n; ++i) {
    eb_stream_close(streams[i].stream);
    free(streams[i].sent);
    free(streams[i].latency);
  }
  for (int k = 0; k < connections; ++k) eb_client_close(clients[k]);
  free(clients);
  free(all);
  free(streams);
  free(receivers);
  free(audio);
  return 0;
}
