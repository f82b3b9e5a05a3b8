/*
 * emobridge.h - the C ABI of the emobridge native client core.
 *
 * Streams speech to an emobridge sidecar (`emobridge serve`) and receives ARKit-52 face animation
 * frames with emotion. Unity P/Invokes these functions; Unreal links the library. See docs/native.md.
 *
 * Conventions (they hold for every function below):
 *   - Plain C types only. Nothing is allocated for the caller: every output goes into memory the
 *     caller owns and passes in; strings returned as `const char*` are static or thread-local.
 *   - Functions returning int32_t return an eb_result: EB_OK (0), EB_NO_FRAME (1, "nothing yet",
 *     not an error) or a negative EB_ERR_*; on an error eb_last_error() says what to fix.
 *   - Thread safety: every function may be called from any thread at any time, also concurrently
 *     on the same handle. Closing a handle while another thread uses it is safe: that call either
 *     completes or returns EB_ERR_CLOSED.
 *   - Handles are opaque ids, never pointers to memory: NULL, closed and made-up handles are
 *     detected and return EB_ERR_INVALID_HANDLE or EB_ERR_CLOSED instead of crashing.
 *   - Nothing blocks on the network except eb_client_connect (up to its timeout), eb_stream_wait and
 *     eb_clip_wait (up to their timeouts), the bake functions (until the sidecar replies, up to their
 *     timeout) and the close functions (which cancel and join the stream's or clip's thread).
 *
 * Three ways to animate: a stream (live: audio in as it plays, frames back as they are computed), a
 * bake (a whole clip in one call, e.g. an editor baking dialogue into assets; it may also use a
 * transcript or recognised words, which a stream cannot), or a clip (a bake that is baked again at every
 * emotion change during playback, so gameplay emotion lands exactly where it is heard).
 *
 * Streams: each stream has one background thread that owns its gRPC call. Audio and emotion
 * changes go into a bounded outbound queue; frames come back into a bounded frame queue that
 * drops its oldest frame when full (counted in eb_stream_stats.frames_dropped).
 *
 * Audio timeline: time 0 is the first sample frame pushed to the stream; sample frame n is at
 * n / config.sample_rate seconds. Frame times and the time_seconds of eb_stream_set_emotion_at are on it.
 *
 * Reconnection: when the sidecar goes away (killed, restarted, shut down) a stream with
 * `reconnect` set goes to EB_STATE_RECONNECTING and retries with exponential backoff. A new
 * connection reopens the stream with the same config and, as its initial emotion, the emotion the
 * old one had reached; emotion changes timed later than the audio already sent are sent again, at
 * the same audio-timeline times. Audio still queued is sent on it, audio that was in flight to the
 * old sidecar is lost.
 * Frame numbering continues after the last frame received (index and time never go back);
 * eb_frame.connection and eb_stream_stats.reconnects tell the caller that a reconnect happened.
 */
#ifndef EMOBRIDGE_H
#define EMOBRIDGE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(EMOBRIDGE_BUILDING)
#    define EB_API __declspec(dllexport)
#  else
#    define EB_API __declspec(dllimport)
#  endif
#else
#  define EB_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this ABI; grows when functions or struct fields are added (never changed), so a library
 * with a higher eb_abi_version() serves callers built against a lower one.
 *   1: the first release.
 *   2: eb_stream_set_emotion_at (an emotion change at a time on the audio timeline) and
 *      eb_stream_set_valence_arousal (a valence/arousal point, negative values included).
 *   3: eb_bake_s16 / eb_bake_f32 (a whole clip in one call, with a transcript or recognised words),
 *      eb_bake_config, eb_bake_info, eb_bake_config_init and eb_bake_max_frames.
 *   4: emotion keyframes in a bake (eb_emotion_key; eb_bake_config.emotion_keys and emotion_key_count,
 *      appended: a config filled by an ABI 3 caller is still taken, without keyframes) and
 *      eb_client_get_info (the sidecar's GetInfo as JSON).
 *   5: clips (eb_clip_*): a bake that is baked again at every emotion change, so each change lands exactly
 *      where it is heard; a bake's metadata as JSON (eb_bake_info.meta_json, appended). */
#define EB_ABI_VERSION 5
/* Most weights a frame carries: 52 ARKit, or a rig profile's own count (at most this many). */
#define EB_MAX_WEIGHTS 64
/* Emotion basis size: happy, sad, angry, fear, disgust, surprise, contempt (in that order). */
#define EB_NUM_EMOTIONS 7

/* Opaque handles. */
typedef struct eb_client eb_client;
typedef struct eb_stream eb_stream;
typedef struct eb_clip eb_clip;

/* Result codes. Negative = error. */
enum {
  EB_OK = 0,
  EB_NO_FRAME = 1,               /* poll / wait: no new frame (not an error) */
  EB_ERR_INVALID_ARGUMENT = -1,  /* a NULL pointer, bad number or oversize buffer */
  EB_ERR_INVALID_HANDLE = -2,    /* NULL, or not a handle of this kind */
  EB_ERR_CLOSED = -3,            /* the handle was valid and has been closed */
  EB_ERR_UNAVAILABLE = -4,       /* the sidecar could not be reached */
  EB_ERR_QUEUE_FULL = -5,        /* audio refused: the outbound queue is full; retry later */
  EB_ERR_STATE = -6,             /* not allowed now: e.g. audio after eb_stream_end_audio, or the stream failed */
  EB_ERR_INTERNAL = -7           /* a bug or out of memory; eb_last_error() has the detail */
};

/* Stream states (eb_stream_get_state). */
enum {
  EB_STATE_CONNECTING = 0,    /* opening the first connection */
  EB_STATE_STREAMING = 1,     /* the sidecar accepted the stream (header received) */
  EB_STATE_RECONNECTING = 2,  /* the connection was lost; retrying with backoff */
  EB_STATE_ENDED = 3,         /* every frame has arrived after eb_stream_end_audio (or the duration limit) */
  EB_STATE_FAILED = 4,        /* the sidecar refused the stream (see eb_stream_get_error); no more retries */
  EB_STATE_CLOSED = 5         /* closed by the caller */
};

/* A rotation in radians: applied as Ry(yaw) Rx(pitch) Rz(roll) (see the proto's Rotation). */
typedef struct eb_rotation {
  float yaw;
  float pitch;
  float roll;
} eb_rotation;

/* One animation frame. Plain data; the caller owns it. */
typedef struct eb_frame {
  uint64_t index;          /* frame number from 0 at 1/fps, continuing across reconnects */
  double time_seconds;     /* index / fps on the stream's audio timeline */
  uint32_t weight_count;   /* valid entries in weights: 52 for ARKit */
  uint32_t connection;     /* which connection made it: 0 first, +1 per reconnect */
  float weights[EB_MAX_WEIGHTS];   /* blendshape weights in 0..1, canonical ARKit order */
  eb_rotation head;        /* head relative to the rest pose */
  eb_rotation left_eye;    /* eyes relative to the head, from the frame's eyeLook* weights (zero from older sidecars) */
  eb_rotation right_eye;
  float emotion[EB_NUM_EMOTIONS];  /* emotion in effect for this frame, 0..1 */
} eb_frame;

/* How to open a stream. Fill with eb_stream_config_init, then change what you need. Fields are
 * only ever appended; struct_size tells the library which version you compiled against. */
typedef struct eb_stream_config {
  uint32_t struct_size;          /* sizeof(eb_stream_config) (set by eb_stream_config_init) */
  uint32_t sample_rate;          /* Hz of the audio you push, 8000..192000 (default 16000; 16000 is exact) */
  uint32_t channels;             /* interleaved channels of the audio you push, 1..8 (default 1) */
  uint32_t frame_queue_capacity; /* frames kept for eb_stream_drain, 1..65536 (default 256) */
  double fps;                    /* frame rate, 0 < fps <= 240 (default 60) */
  uint64_t seed;                 /* seed of blinks, gaze and head motion (default 0) */
  float mouth_preservation;      /* 0..1; negative = the server default (default -1) */
  float style_energy;            /* articulation size, -1..1 (default 0) */
  float style_smoothness;        /* coarticulation width, -1..1 (default 0) */
  uint32_t audio_queue_ms;       /* audio buffered towards the sidecar before EB_ERR_QUEUE_FULL, 100..600000 (default 10000) */
  int32_t reconnect;             /* 1 = reconnect automatically (default), 0 = fail on a lost connection */
  uint32_t reconnect_initial_ms; /* first retry delay (default 100), doubling up to... */
  uint32_t reconnect_max_ms;     /* ...this (default 2000) */
  const char *rig_profile;       /* NULL or "" = ARKit; else a GetInfo rig profile; copied at open */
  /* Initial emotion as parallel arrays (copied at open); emotion_count 0 = neutral. */
  const char *const *emotion_names;
  const float *emotion_values;
  uint32_t emotion_count;
} eb_stream_config;

/* Counters of a stream (eb_stream_get_stats). */
typedef struct eb_stream_stats {
  uint32_t struct_size;          /* set to sizeof(eb_stream_stats) before the call */
  int32_t state;                 /* EB_STATE_* */
  uint32_t reconnects;           /* times the stream was re-established on a new connection */
  uint32_t frames_queued;        /* frames waiting for eb_stream_drain */
  uint64_t frames_received;      /* frames received in total */
  uint64_t frames_dropped;       /* frames dropped (oldest first) because the frame queue was full */
  uint64_t audio_frames_accepted;/* sample frames (per channel) accepted by the push functions */
  uint64_t audio_frames_rejected;/* sample frames refused with EB_ERR_QUEUE_FULL */
  double fps;                    /* frame rate the sidecar confirmed (0 before the first header) */
  char stream_id[40];            /* the sidecar's id of the current connection ("" before the header) */
} eb_stream_stats;

/* One emotion keyframe of a bake (eb_bake_config.emotion_keys): from time_seconds on the clip's timeline the
 * face blends to this emotion over transition_seconds (a critically damped blend, never a pop). Since ABI 4. */
typedef struct eb_emotion_key {
  double time_seconds;           /* >= 0, seconds from the clip's start; keys may come in any order */
  float transition_seconds;      /* 0..3600; 0 = at once */
  const char *const *names;      /* the target as parallel arrays (copied), as eb_bake_config.emotion_*; */
  const float *values;           /* intensities 0..1; count 0 = neutral */
  uint32_t count;
} eb_emotion_key;

/* How to bake a clip (eb_bake_s16 / eb_bake_f32). Fill with eb_bake_config_init, then change what you
 * need. Fields are only ever appended; struct_size tells the library which version you compiled
 * against. Since ABI 3. */
typedef struct eb_bake_config {
  uint32_t struct_size;          /* sizeof(eb_bake_config) (set by eb_bake_config_init) */
  uint32_t sample_rate;          /* Hz of the samples, 8000..192000 (default 16000) */
  uint32_t channels;             /* interleaved channels of the samples, 1..8 (default 1); mixed to mono */
  double fps;                    /* frame rate, 0 < fps <= 240 (default 60) */
  uint64_t seed;                 /* seed of blinks, gaze and head motion (default 0) */
  float mouth_preservation;      /* 0..1; negative = the server default (default -1) */
  float style_energy;            /* articulation size, -1..1 (default 0) */
  float style_smoothness;        /* coarticulation width, -1..1 (default 0) */
  const char *rig_profile;       /* NULL or "" = ARKit; else a GetInfo rig profile */
  /* What is said, UTF-8, at most 65536 bytes; NULL or "" = none. With it the lips follow the words
   * force-aligned to the audio: the most exact lip sync (eb_bake_info.route "transcript"). */
  const char *transcript;
  /* Without a transcript: 1 = first recognise the words, so the lips seal on their p/b/m (offline
   * quality on real voices, about 9x real time per sidecar core); 0 = the model alone, as a stream
   * (hundreds of times real time; the default). */
  int32_t recognize_words;
  uint32_t timeout_ms;           /* longest wait for the sidecar's reply, 1..3600000 (default 600000) */
  /* The emotion of the whole clip as parallel arrays (copied); emotion_count 0 = neutral. */
  const char *const *emotion_names;
  const float *emotion_values;
  uint32_t emotion_count;
  /* Since ABI 4: emotion changes over the clip (copied), e.g. a cutscene line that turns angry halfway;
   * the emotion above holds from the start until the first of them. NULL / 0 = none; at most 4096. */
  const eb_emotion_key *emotion_keys;
  uint32_t emotion_key_count;
} eb_bake_config;

/* How a bake was made (optional output of eb_bake_s16 / eb_bake_f32). Since ABI 3. Zero it (= {0}) before setting
 * struct_size, so fields you do not use are NULL / 0. */
typedef struct eb_bake_info {
  uint32_t struct_size;          /* set to sizeof(eb_bake_info) before the call */
  double duration_seconds;       /* length of the audio */
  char route[16];                /* what animated the face: "transcript", "model", "phones" or "silence" */
  /* Since ABI 5 (read and written only when struct_size covers them; an ABI 3-sized info is still taken): the
   * bake's metadata as a JSON object, e.g. "recognized" (the words heard, with recognize_words), "unknown_words"
   * (transcript words the dictionary lacks: their lips are spelled out), "seed", "model_lookahead_ms". Written
   * NUL-terminated into meta_json[0..meta_json_capacity) when it fits (else meta_json[0] = 0: the bake still
   * succeeds; meta_json_length says how much room to give). NULL / 0 = not wanted. */
  char *meta_json;
  size_t meta_json_capacity;
  size_t meta_json_length;       /* out: the JSON's length without the NUL */
} eb_bake_info;

/* Where a clip's bakes stand (eb_clip_get_status). Since ABI 5. */
typedef struct eb_clip_status {
  uint32_t struct_size;          /* set to sizeof(eb_clip_status) before the call */
  uint32_t changes;              /* eb_clip_set_emotion_at calls taken so far */
  uint32_t changes_baked;        /* how many of them the newest bake holds (always the first ones) */
  uint32_t bakes_started;        /* bakes sent to the sidecar so far */
  uint64_t version;              /* bakes back so far; 0 = none yet. A new value means new frames */
  int32_t baking;                /* 1 while a bake is in flight or due: newer frames are coming */
  int32_t last_result;           /* EB_OK, or why the latest bake failed (eb_clip_get_error); the frames of the
                                    newest successful bake stay in use. EB_ERR_UNAVAILABLE with baking 1: retrying */
  uint32_t frame_count;          /* frames of the newest bake (0 before the first) */
  double duration_seconds;       /* length of the audio (0 before the first bake) */
  char route[16];                /* what animated the face, as eb_bake_info.route ("" before the first bake) */
} eb_clip_status;

/* ---- library ----------------------------------------------------------------------------- */

/* Version of the library, e.g. "0.1.0". Static string. */
EB_API const char *eb_version(void);
/* EB_ABI_VERSION the library was built with: check it is at least the header's (functions of a
 * newer header are missing from an older library). */
EB_API uint32_t eb_abi_version(void);
/* Why the last failing eb_* call on this thread failed ("" after a successful call). Thread-local;
 * valid until the next eb_* call on the same thread. Never NULL. */
EB_API const char *eb_last_error(void);
/* Name of a result code ("EB_OK", "EB_ERR_CLOSED", ...) or of a state ("streaming", ...). Static. */
EB_API const char *eb_result_name(int32_t result);
EB_API const char *eb_state_name(int32_t state);

/* ---- client: one sidecar address ---------------------------------------------------------- */

/* Creates a client for `address` ("host:port"; any gRPC target). With connect_timeout_ms > 0,
 * waits up to that long for the connection and returns EB_ERR_UNAVAILABLE if it is not made;
 * 0 connects lazily (streams then retry until the sidecar is up). On EB_OK *out_client is a new
 * handle the caller must eb_client_close. */
EB_API int32_t eb_client_connect(const char *address, uint32_t connect_timeout_ms, eb_client **out_client);

/* Closes the client and every stream opened from it (their handles then return EB_ERR_CLOSED).
 * Blocks until their threads have stopped. Closing twice returns EB_ERR_CLOSED. */
EB_API int32_t eb_client_close(eb_client *client);

/* What the sidecar serves, as its GetInfo reply in JSON (UTF-8, proto field names): model name and version,
 * device, emotion names and aliases, blendshape names, rig profiles, lookahead_ms and limits (max_streams,
 * active_streams, sample_rates, max_fps, max_bake_seconds, ...). E.g. to fill an editor's rig-profile list or
 * show which model a sidecar runs. Written to buffer[0..capacity) NUL-terminated; *out_length gets the JSON's
 * length without the NUL. capacity 0 (buffer may be NULL) only asks for the length; a capacity too small
 * is EB_ERR_INVALID_ARGUMENT with *out_length set (call again with more). Blocks up to timeout_ms (1..600000);
 * EB_ERR_UNAVAILABLE when no sidecar answers. Since ABI 4. */
EB_API int32_t eb_client_get_info(eb_client *client, uint32_t timeout_ms, char *buffer, size_t capacity,
                                  size_t *out_length);

/* ---- streams ------------------------------------------------------------------------------ */

/* Fills `config` with the defaults listed in eb_stream_config. */
EB_API void eb_stream_config_init(eb_stream_config *config);

/* Opens a stream. Returns at once (state EB_STATE_CONNECTING); the stream's thread connects.
 * The config and everything it points to is copied. On EB_OK *out_stream is a new handle the
 * caller must eb_stream_close (or close its client). */
EB_API int32_t eb_stream_open(eb_client *client, const eb_stream_config *config, eb_stream **out_stream);

/* Queues audio: `frame_count` sample frames of config.channels interleaved samples at
 * config.sample_rate (int16, or float in -1..1). Any amount per call up to audio_queue_ms; it is
 * sent in 20 ms chunks (a remainder waits for more audio or eb_stream_end_audio). Rates the
 * sidecar does not take are resampled to 16 kHz here. EB_ERR_QUEUE_FULL refuses the whole call
 * (nothing is queued; retry later); the sidecar runs no faster than its model, so a sender far
 * ahead of real time meets this. The samples are copied. */
EB_API int32_t eb_stream_push_s16(eb_stream *stream, const int16_t *samples, size_t frame_count);
EB_API int32_t eb_stream_push_f32(eb_stream *stream, const float *samples, size_t frame_count);

/* Sets the target emotion from the next frame on, blended over transition_seconds (negative =
 * the server default 0.3 s; 0 = a cut). Parallel arrays of `count` names (basis names or
 * aliases; an unknown name fails the stream with the sidecar's INVALID_ARGUMENT) and intensities
 * in 0..1; count 0 = neutral. Copied; ordered with the audio pushed before and after it. */
EB_API int32_t eb_stream_set_emotion(eb_stream *stream, const char *const *names, const float *values,
                                     uint32_t count, float transition_seconds);

/* As eb_stream_set_emotion, but the blend starts at `time_seconds` on the stream's audio timeline
 * (see the top of this file) instead of wherever the sidecar happens to be when the message arrives.
 * Frames already computed cannot change: a time the sidecar has passed (or NaN, or a negative time)
 * applies at once, exactly as eb_stream_set_emotion. So a change lands exactly at its time when it is
 * sent before the sidecar computes that far; with audio pushed ahead of playback, a change stamped
 * with the playback time lands there or, if the sidecar is already past it, as soon after as it can.
 * Updates apply in time order whatever order they are sent in (equal times in send order).
 * Since ABI 2. */
EB_API int32_t eb_stream_set_emotion_at(eb_stream *stream, const char *const *names, const float *values,
                                        uint32_t count, float transition_seconds, double time_seconds);

/* Sets the target emotion to a valence/arousal point, both in -1..1 (valence: unpleasant..pleasant,
 * arousal: calm..excited; (0, 0) = neutral). The sidecar maps it onto the emotion basis (its mapping
 * is the one source of truth; eb_frame.emotion shows the result). It replaces the whole target, like
 * eb_stream_set_emotion. transition_seconds and time_seconds as for eb_stream_set_emotion_at (NaN or
 * negative time = at once). Values outside -1..1 or not finite return EB_ERR_INVALID_ARGUMENT.
 * Since ABI 2. */
EB_API int32_t eb_stream_set_valence_arousal(eb_stream *stream, float valence, float arousal,
                                             float transition_seconds, double time_seconds);

/* No more audio: the sidecar sends the remaining frames and the stream becomes EB_STATE_ENDED.
 * Further pushes and emotion changes return EB_ERR_STATE. */
EB_API int32_t eb_stream_end_audio(eb_stream *stream);

/* Copies the newest frame into *out_frame and discards older queued frames (they are superseded,
 * not counted as drops). Returns EB_NO_FRAME when no frame arrived since the last poll or drain. */
EB_API int32_t eb_stream_poll_latest(eb_stream *stream, eb_frame *out_frame);

/* Moves up to `capacity` queued frames, oldest first, into out_frames[0..*out_count). */
EB_API int32_t eb_stream_drain(eb_stream *stream, eb_frame *out_frames, size_t capacity, size_t *out_count);

/* Blocks up to timeout_ms until a frame is queued or the stream is ended/failed (EB_OK), else
 * EB_NO_FRAME. For callers without a frame loop of their own (tools, tests, the example). */
EB_API int32_t eb_stream_wait(eb_stream *stream, uint32_t timeout_ms);

/* Current state (EB_STATE_*); eb_state_name gives its name. */
EB_API int32_t eb_stream_get_state(eb_stream *stream, int32_t *out_state);

/* Counters; set out_stats->struct_size = sizeof(eb_stream_stats) first. */
EB_API int32_t eb_stream_get_stats(eb_stream *stream, eb_stream_stats *out_stats);

/* The stream's latest error ("" if none), e.g. why it is reconnecting or failed, copied into
 * buffer[0..capacity) NUL-terminated (truncated if needed). *out_length (optional) gets the full
 * length without the NUL. */
EB_API int32_t eb_stream_get_error(eb_stream *stream, char *buffer, size_t capacity, size_t *out_length);

/* Cancels the stream, stops its thread and frees it. The handle is invalid afterwards (calls
 * return EB_ERR_CLOSED; closing again too). */
EB_API int32_t eb_stream_close(eb_stream *stream);

/* ---- bakes: a whole clip in one call (since ABI 3) ------------------------------------------- */

/* Fills `config` with the defaults listed in eb_bake_config. */
EB_API void eb_bake_config_init(eb_bake_config *config);

/* The most frames a bake of `frame_count` sample frames at `sample_rate` Hz can return at `fps`: the
 * capacity to give eb_bake_s16 / eb_bake_f32. 0 when sample_rate or fps is 0. */
EB_API size_t eb_bake_max_frames(size_t frame_count, uint32_t sample_rate, double fps);

/* Animates a whole clip: `frame_count` sample frames of config.channels interleaved samples at
 * config.sample_rate (int16, or float in -1..1), sent to the sidecar in one Bake call. Blocks until the
 * reply (up to config.timeout_ms); any number of bakes and streams may run at once on one client.
 * On EB_OK out_frames[0..*out_count) hold every frame, index from 0 at 1/fps, connection 0 (without a
 * transcript or recognised words, the frames a stream of the same 16 kHz mono audio and emotion gives). out_info (may be NULL; set its
 * struct_size) says how they were made. Errors: EB_ERR_INVALID_ARGUMENT for a bad config or audio,
 * including what the sidecar refuses (unknown emotion or rig profile, a clip longer than its
 * max_bake_seconds, more than 64 MB of samples, too few frames in `capacity`: size it with
 * eb_bake_max_frames, *out_count then says how many the bake has);
 * EB_ERR_UNAVAILABLE when the sidecar cannot be reached or does not reply in time. */
EB_API int32_t eb_bake_s16(eb_client *client, const eb_bake_config *config, const int16_t *samples,
                           size_t frame_count, eb_frame *out_frames, size_t capacity, size_t *out_count,
                           eb_bake_info *out_info);
EB_API int32_t eb_bake_f32(eb_client *client, const eb_bake_config *config, const float *samples,
                           size_t frame_count, eb_frame *out_frames, size_t capacity, size_t *out_count,
                           eb_bake_info *out_info);

/* ---- clips: a bake that follows emotion changes (since ABI 5) --------------------------------- */

/* A clip (an NPC line, a cutscene take) baked whole, and baked again whenever its emotion changes: each
 * change is an emotion key at the clip time it names, so it lands exactly there (a stream can only change
 * frames it has not made yet, which is its audio lead later). A change moves no frame earlier than its time
 * less the model's lookahead (80 ms), so with changes made at the playhead, switching to the newer bake
 * during playback shows no seam.
 * One bake per clip is in flight at a time, on the clip's own thread: changes made meanwhile are all taken
 * by the next one, so a script that blends every frame costs one bake per round trip, not one per frame.
 * A bake costs the sidecar about 1/500 of the clip's length. A bake that finds no sidecar (down or restarting)
 * is retried, 100 ms after the failure doubling to 2 s, as a stream reconnects; a refused one is not.
 *
 * Typical use (a game's tick): open the clip when the line starts loading; each tick call eb_clip_sample
 * with the audio's playback time and show the frame (EB_NO_FRAME until the first bake is back); on a
 * gameplay emotion change call eb_clip_set_emotion_at with the playback time. */

/* Opens a clip of `frame_count` sample frames (interleaved, as eb_bake_s16 / eb_bake_f32; copied) baked with
 * `config` (its emotion and emotion_keys are where every bake starts from), and starts its first bake.
 * Returns at once; on EB_OK *out_clip is a new handle the caller must eb_clip_close (or close its client).
 * The config is checked here (EB_ERR_INVALID_ARGUMENT); what the sidecar refuses shows in eb_clip_get_status. */
EB_API int32_t eb_clip_open_s16(eb_client *client, const eb_bake_config *config, const int16_t *samples,
                                size_t frame_count, eb_clip **out_clip);
EB_API int32_t eb_clip_open_f32(eb_client *client, const eb_bake_config *config, const float *samples,
                                size_t frame_count, eb_clip **out_clip);

/* From `time_seconds` (>= 0, on the clip's timeline) the face blends to this emotion over transition_seconds
 * (negative = the sidecar's default 0.3 s, 0 = a cut); names and values as eb_stream_set_emotion (count 0 =
 * neutral; copied). Returns at once and bakes the clip again (at once, or after the bake in flight). Changes
 * apply in time order whatever order they are made in; at most 4096 per clip. */
EB_API int32_t eb_clip_set_emotion_at(eb_clip *clip, const char *const *names, const float *values, uint32_t count,
                                      float transition_seconds, double time_seconds);

/* As eb_clip_set_emotion_at, to a valence/arousal point (both in -1..1; (0, 0) = neutral) that the sidecar maps
 * onto the basis, as eb_stream_set_valence_arousal. */
EB_API int32_t eb_clip_set_valence_arousal(eb_clip *clip, float valence, float arousal, float transition_seconds,
                                           double time_seconds);

/* The newest bake's frame for playback time `time_seconds`: the last frame at or before it (the first frame
 * before 0, the last after the end). EB_NO_FRAME until the first bake is back. */
EB_API int32_t eb_clip_sample(eb_clip *clip, double time_seconds, eb_frame *out_frame);

/* Copies the newest bake's frames (index from 0 at 1/fps) into out_frames[0..*out_count); *out_version
 * (optional) gets its eb_clip_status.version. EB_NO_FRAME (count 0) until the first bake is back; capacity
 * too small is EB_ERR_INVALID_ARGUMENT with *out_count set to the frames it has. */
EB_API int32_t eb_clip_frames(eb_clip *clip, eb_frame *out_frames, size_t capacity, size_t *out_count,
                              uint64_t *out_version);

/* Blocks up to timeout_ms until a bake holding at least `changes` changes is back (0 = the first bake; pass
 * eb_clip_status.changes for "every change so far"): EB_OK. EB_NO_FRAME on timeout (also while a bake is being
 * retried for want of a sidecar: eb_clip_status.last_result then says EB_ERR_UNAVAILABLE); the failed bake's code
 * when the clip is idle after a refusal. For tools and tests; a game reads eb_clip_sample each tick instead. */
EB_API int32_t eb_clip_wait(eb_clip *clip, uint32_t changes, uint32_t timeout_ms);

/* Where the bakes stand; set out_status->struct_size = sizeof(eb_clip_status) first. */
EB_API int32_t eb_clip_get_status(eb_clip *clip, eb_clip_status *out_status);

/* Why the latest bake failed ("" if it did not), as eb_stream_get_error. A failed bake keeps the frames of the
 * newest good one; the next change bakes again. */
EB_API int32_t eb_clip_get_error(eb_clip *clip, char *buffer, size_t capacity, size_t *out_length);

/* Cancels a bake in flight, stops the clip's thread and frees it. The handle is invalid afterwards. */
EB_API int32_t eb_clip_close(eb_clip *clip);

#ifdef __cplusplus
}
#endif

#endif /* EMOBRIDGE_H */
