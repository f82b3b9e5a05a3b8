"""Bilabial evidence from PocketSphinx's English acoustic model: a second opinion on lip closure.

Our network learns lip closure from synthetic speech only, and real voices' /m/ is a weaker cue than any TTS
voice's (docs/model.md). PocketSphinx ships an acoustic model trained on real recordings (the en-us PTM model
inside the pocketsphinx wheel, already installed for the `--recognize` route). Read as a per-frame phone
classifier it hears many of the real /m/s our network misses; its P(M) + P(B) + P(P) per 10 ms frame is the
evidence, and ``FaceModel`` seals the lips by max(network closure, evidence).

The pipeline, all causal but for 60 ms of lookahead (the network has 80 ms):
  our log-mel -> PocketSphinx's 25-filter bank (a fixed non-negative map of our 80 bands) -> 13 cepstra
  -> running cepstral mean removal (3 s horizon, started at ``SPEECH_CEPSTRUM_MEAN``) -> cepstra, deltas and
  double deltas (3 frames ahead) -> each phone's Gaussian codebook (its 32 most used densities, equal weights; an
  ONNX graph, ``LOGLIK_GRAPH``, run on the model's own providers, so on the GPU beside it) -> averaged
  over 3 frames (1 ahead) -> posterior over the 42 phones -> P(M) + P(B) + P(P), held over 3 frames and smoothed
  over 3 (a lip seal is a gesture of 50 ms or more: a 10 ms blip would only add jitter).

``evidence_offline`` (whole clips) and ``evidence_step`` (streaming) run the same per-frame arithmetic, so a
stream equals its offline bake; the streaming state is the running mean, the last normalised cepstra and the
last phone likelihoods.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from emobridge.audio.features import LOG_FLOOR, N_FFT, N_MELS, SAMPLE_RATE, _mel_filterbank

N_CEPS = 13
DENSITIES = 32       # Gaussians per phone and stream, of the model's 128
CONTEXT = 3          # delta and double delta look this many frames either side
SMOOTH = 1           # the log-likelihoods are averaged over this many frames either side
LOOKAHEAD = CONTEXT + SMOOTH + 2   # and the posterior is held over a frame either side, then smoothed as far
CMN_FRAMES = 300     # the running mean's horizon: 3 s
MAX_STEP = 8         # frames one streaming step may bring
CEPS_HISTORY = 2 * CONTEXT + MAX_STEP     # normalised cepstra a stream keeps (a step's frames and their context)
LOGLIK_HISTORY = 24  # phone likelihood rows a stream keeps: a step's, its delay's and its smoothing's
# The mean cepstrum of speech in our own synthetic corpus, in this front end: where the running mean starts, so
# the first seconds of a stream are normalised like the rest instead of by the silence before the first word.
# Computed as cepstra(mel[activity > 0.5]).mean(0) over every 7th such frame of v0.6's first three shards
# (.cache/corpus/shard_00000-00002.npz, about 60,000 frames).
SPEECH_CEPSTRUM_MEAN = (50.75, 19.76, -17.39, 29.9, -22.82, 1.89, -5.33, -13.76, 1.12, -6.37, 4.94, -3.49, -0.28)
BILABIALS = ("M", "B", "P")
SOURCE = "pocketsphinx en-us PTM codebooks, 32 most used densities, equal weights"  # what model.json records
# The acoustic model's context-independent phones in its codebook order (mdef's sorted list).
PHONES = ("+NSN+ +SPN+ AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH SIL T TH "
          "UH UW V W Y Z ZH").split()
STATE_SIZE = N_CEPS + CEPS_HISTORY * N_CEPS + LOGLIK_HISTORY * len(PHONES)
LOGLIK_GRAPH = Path(__file__).with_name("phone_loglik.onnx")  # build_loglik_graph(), committed
# Frames per graph call. A frame's densities take 3 x 1344 x 4 bytes in each of the graph's intermediates, so an
# offline bake of 256 one-minute clips in one call (1.5 M frames) needed over 24 GB; 16,384 frames need 264 MB.
LOGLIK_CHUNK = 16384


class EvidenceError(RuntimeError):
    """The acoustic model cannot be read (pocketsphinx missing or its model files changed)."""


def acoustic_model_dir() -> str:
    try:
        import pocketsphinx
    except ImportError as err:
        raise EvidenceError("bilabial evidence needs the pocketsphinx package (pip install pocketsphinx)") from err
    return os.path.join(os.path.dirname(pocketsphinx.__file__), "model", "en-us", "en-us")


def _read_gaussians(path: str) -> np.ndarray:
    """A Sphinx-3 binary Gaussian file (means or variances) -> [codebooks, streams, densities, dims]."""
    data = Path(path).read_bytes()
    at = data.find(b"endhdr\n") + len(b"endhdr\n")
    if at < len(b"endhdr\n") or np.frombuffer(data[at:at + 4], "<i4")[0] != 0x11223344:
        raise EvidenceError(f"{path}: not a little-endian Sphinx-3 Gaussian file")
    books, streams, densities = (int(v) for v in np.frombuffer(data[at + 4:at + 16], "<i4"))
    dims = np.frombuffer(data[at + 16:at + 16 + 4 * streams], "<i4")
    at += 16 + 4 * streams
    total = int(np.frombuffer(data[at:at + 4], "<i4")[0])
    if books != len(PHONES) or streams != 3 or set(dims) != {N_CEPS} or total != books * densities * 3 * N_CEPS:
        raise EvidenceError(f"{path}: expected {len(PHONES)} codebooks of 3 x {N_CEPS}-d streams, got "
                            f"{books} x {list(dims)}")
    values = np.frombuffer(data[at + 4:at + 4 + 4 * total], "<f4")
    return values.reshape(books, streams, densities, N_CEPS).astype(np.float64)


def _density_weights(folder: str) -> np.ndarray:
    """How much each codebook's phone uses each density: [codebooks, streams, densities], the summed mixture
    weights of the phone's three context-independent senones (``sendump``: 8-bit -log weights)."""
    data = (Path(folder) / "sendump").read_bytes()
    at = 0
    while (n := int(np.frombuffer(data[at:at + 4], "<i4")[0])) != 0:  # length-prefixed header strings
        if b"cluster_count" in data[at + 4:at + 4 + n] and b"cluster_count 0" not in data[at + 4:at + 4 + n]:
            raise EvidenceError("clustered sendump files are not supported")
        at += 4 + n
    densities, senones = (int(v) for v in np.frombuffer(data[at + 4:at + 12], "<i4"))
    q = np.frombuffer(data[at + 12:at + 12 + 3 * densities * senones], np.uint8).reshape(3, densities, senones)
    ci = np.exp(-q[:, :, :3 * len(PHONES)].astype(np.float64) * 1024 * np.log(1.0001))  # Sphinx's 8-bit log base
    return ci.reshape(3, densities, len(PHONES), 3).sum(-1).transpose(2, 0, 1)


@lru_cache(maxsize=1)
def acoustic_model() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each stream's Gaussians as one product: log N(x) = [x*x, x, 1] @ G[stream], G [3, 27, phones*DENSITIES]
    float32; the filterbank map [80, 25]; the DCT [25, 13]. Each phone keeps its DENSITIES most used Gaussians
    (of 128): a quarter of the arithmetic, and the ones its senones weigh most."""
    folder = acoustic_model_dir()
    try:
        means = _read_gaussians(os.path.join(folder, "means"))
        variances = np.maximum(_read_gaussians(os.path.join(folder, "variances")), 1e-4)  # Sphinx's -varfloor
        keep = np.argsort(-_density_weights(folder), axis=-1)[..., :DENSITIES]  # [books, 3, DENSITIES]
    except (OSError, ValueError) as err:
        raise EvidenceError(f"cannot read PocketSphinx's acoustic model in {folder}: {err}") from None
    means = np.take_along_axis(means, keep[..., None], axis=2)
    variances = np.take_along_axis(variances, keep[..., None], axis=2)
    precision = 1.0 / variances
    const = -0.5 * (np.log(2 * np.pi * variances).sum(-1) + (means**2 * precision).sum(-1))  # [books, 3, dens]
    g = np.stack([np.concatenate([(-0.5 * precision[:, s]).reshape(-1, N_CEPS).T,
                                  (means[:, s] * precision[:, s]).reshape(-1, N_CEPS).T,
                                  const[:, s].reshape(1, -1)]) for s in range(3)])
    return g.astype(np.float32), _filterbank_map().astype(np.float32), _dct()


def _sphinx_filterbank() -> np.ndarray:
    """PocketSphinx's front end for this model (feat.params: 25 filters, 130-6800 Hz, unit area, pre-emphasis
    0.97, 16-bit sample scale) as weights [25, FFT bins] on the power spectrum."""
    mel = lambda f: 2595.0 * np.log10(1 + f / 700.0)  # noqa: E731 (Sphinx's mel scale, not ours)
    hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    low, high, n = mel(130.0), mel(6800.0), 25
    width, step = (high - low) / (n + 1), SAMPLE_RATE / N_FFT
    bins = np.arange(N_FFT // 2 + 1) * step
    weights = np.zeros((n, bins.size))
    for i in range(n):
        left, centre, right = (round(hz(low + (i + j) * width) / step) * step for j in range(3))
        rising, falling = (bins - left) / (centre - left), (right - bins) / (right - centre)
        weights[i] = np.clip(np.minimum(rising, falling), 0, None) * 2 / (right - left)
    emphasis = np.abs(1 - 0.97 * np.exp(-2j * np.pi * np.arange(bins.size) / N_FFT)) ** 2
    return weights * emphasis * 32768.0**2


def _filterbank_map() -> np.ndarray:
    """[80, 25]: Sphinx's filters as non-negative combinations of our mel bands (least squares on the filter
    shapes). Its window differs from ours (Hamming 410 vs Hann 400 samples); a constant gain per band is a
    constant cepstral offset, which the mean removal takes out."""
    from scipy.optimize import nnls

    ours = _mel_filterbank()
    return np.stack([nnls(ours.T, target)[0] for target in _sphinx_filterbank()]).T


def _dct() -> np.ndarray:
    """Sphinx's 'dct' transform with its lifter 22: [25, 13]."""
    n = 25
    basis = np.cos(np.pi / n * np.arange(N_CEPS)[:, None] * (np.arange(n) + 0.5)[None])
    basis[0] *= np.sqrt(1.0 / n)
    basis[1:] *= np.sqrt(2.0 / n)
    lifter = 1 + 22 / 2 * np.sin(np.arange(N_CEPS) * np.pi / 22)
    return (basis * lifter[:, None]).T.astype(np.float32)


def cepstra(mel: np.ndarray) -> np.ndarray:
    """Our log-mel [..., 80] -> Sphinx-like cepstra [..., 13] (before mean removal)."""
    _, fmap, dct = acoustic_model()
    power = np.maximum(np.exp(mel.astype(np.float32)) - np.float32(LOG_FLOOR), 0.0)
    return np.log(np.maximum(power @ fmap, 1e-5)) @ dct


@lru_cache(maxsize=1)
def _silence_before() -> np.ndarray:
    """The normalised cepstrum a stream's history starts with: digital silence (what a bake pads a clip with),
    so the first frames' deltas see silence before them, not a jump from nothing."""
    silence = cepstra(np.full((1, 1, N_MELS), np.log(LOG_FLOOR), np.float32))[0, 0]
    return (silence - np.asarray(SPEECH_CEPSTRUM_MEAN, np.float32)).astype(np.float32)


def new_state(batch: int) -> np.ndarray:
    state = np.zeros((batch, STATE_SIZE), np.float32)
    state[:, :N_CEPS] = SPEECH_CEPSTRUM_MEAN
    state[:, N_CEPS:N_CEPS + CEPS_HISTORY * N_CEPS] = np.tile(_silence_before(), CEPS_HISTORY)
    return state


def _normalise(ceps: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running mean removal along axis 1 of [B, T, 13] from ``mean`` [B, 13]: each frame minus the mean that
    includes it (an exponential average). Returns the normalised frames and the final mean."""
    a = 1.0 / CMN_FRAMES
    running = lfilter([a], [1.0, a - 1.0], ceps, axis=1, zi=((1 - a) * mean)[:, None, :])[0]
    return (ceps - running).astype(np.float32), running[:, -1].astype(np.float32)


def build_loglik_graph():
    """The ONNX graph of ``phone_loglik`` (needs the ``onnx`` package; the result is committed as LOGLIK_GRAPH):
    features [3 streams, frames, 27] -> each phone's log-likelihood [frames, 42]. Per stream, [x*x, x, 1] @ G gives
    every density's log N(x); each phone's mixture is the log of the mean of its densities (a phone's are
    adjacent columns), from one shift per frame, not per phone: a phone far below the frame's best underflows
    to the floor, weightless anyway. The Gaussians G are an external initializer that ``loglik_session``
    fills from PocketSphinx's files, so the graph holds no weights of its own."""
    from onnx import TensorProto, helper, numpy_helper

    gaussians = TensorProto(name="gaussians", data_type=TensorProto.FLOAT, dims=[3, 2 * N_CEPS + 1,
                                                                                 len(PHONES) * DENSITIES])
    gaussians.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "pocketsphinx-en-us"), ("offset", "0"), ("length", "0")):
        entry = gaussians.external_data.add()
        entry.key, entry.value = key, value
    constants = [numpy_helper.from_array(np.array([3, -1, len(PHONES), DENSITIES], np.int64), "per_phone_shape"),
                 numpy_helper.from_array(np.array(1e-30, np.float32), "floor"),
                 numpy_helper.from_array(np.array([0], np.int64), "stream_axis")]
    node = helper.make_node
    graph = helper.make_graph([
        node("MatMul", ["features", "gaussians"], ["density_loglik"]),
        node("ReduceMax", ["density_loglik"], ["best"], axes=[-1], keepdims=1),
        node("Sub", ["density_loglik", "best"], ["shifted"]),
        node("Exp", ["shifted"], ["density_lik"]),
        node("Reshape", ["density_lik", "per_phone_shape"], ["per_phone"]),
        node("ReduceMean", ["per_phone"], ["mixture"], axes=[-1], keepdims=0),
        node("Max", ["mixture", "floor"], ["floored"]),
        node("Log", ["floored"], ["log_mixture"]),
        node("Add", ["log_mixture", "best"], ["stream_loglik"]),
        node("ReduceSum", ["stream_loglik", "stream_axis"], ["loglik"], keepdims=0),
    ], "phone_loglik", [helper.make_tensor_value_info("features", TensorProto.FLOAT, [3, "frames", 2 * N_CEPS + 1])],
        [helper.make_tensor_value_info("loglik", TensorProto.FLOAT, ["frames", len(PHONES)])],
        initializer=[gaussians, *constants])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="emobridge")
    model.ir_version = 8  # what ONNX Runtime 1.17 (our oldest) reads
    return model


def loglik_session(providers: list | None = None, threads: int = 0):
    """An ONNX Runtime session of LOGLIK_GRAPH with PocketSphinx's Gaussians, on ``providers`` (default CPU):
    ``FaceModel`` passes its own, so on a GPU the evidence's products run on the device beside the model."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    # The OrtValue only points at the array: both must outlive the session's creation, which copies them in.
    gaussians = np.ascontiguousarray(acoustic_model()[0])
    value = ort.OrtValue.ortvalue_from_numpy(gaussians)
    options.add_external_initializers(["gaussians"], [value])
    return ort.InferenceSession(str(LOGLIK_GRAPH), options, providers=providers or ["CPUExecutionProvider"])


@lru_cache(maxsize=1)
def _cpu_session():
    return loglik_session(threads=1)


def phone_loglik(c: np.ndarray, session=None) -> np.ndarray:
    """Normalised cepstra [B, T, 13] -> each phone's log-likelihood [B, T - 2 * CONTEXT, 42] of the frames with
    full delta context (row i is frame i + CONTEXT of the input), by ``session`` (``loglik_session``; default
    a one-thread CPU one)."""
    b, t = c.shape[:2]
    inner = t - 2 * CONTEXT
    at = lambda k: c[:, CONTEXT + k:CONTEXT + k + inner].reshape(b * inner, N_CEPS)  # noqa: E731
    x = np.stack([at(0), at(2) - at(-2), (at(3) - at(-1)) - (at(1) - at(-3))])  # cepstra, deltas, double deltas
    features = np.concatenate([x * x, x, np.ones((3, b * inner, 1), np.float32)], axis=2)
    session = session or _cpu_session()
    loglik = np.empty((b * inner, len(PHONES)), np.float32)
    for at in range(0, b * inner, LOGLIK_CHUNK):  # bounded memory: every frame has 3 x 1344 densities
        loglik[at:at + LOGLIK_CHUNK] = session.run(None, {"features": features[:, at:at + LOGLIK_CHUNK]})[0]
    return loglik.reshape(b, inner, len(PHONES))


def evidence_from_loglik(loglik: np.ndarray) -> np.ndarray:
    """Phone log-likelihoods [B, T, 42] -> bilabial evidence [B, T - 2 * (SMOOTH + 2)] (row i is frame
    i + SMOOTH + 2 of the input): likelihoods averaged over 2 * SMOOTH + 1 frames, the posterior of M, B and P,
    held over 3 frames and smoothed over 3."""
    t = loglik.shape[1]
    smoothed = sum(loglik[:, k:t - 2 * SMOOTH + k] for k in range(2 * SMOOTH + 1)) / (2 * SMOOTH + 1)
    post = np.exp(smoothed - smoothed.max(-1, keepdims=True))
    post /= post.sum(-1, keepdims=True)
    bilabial = post[..., [PHONES.index(p) for p in BILABIALS]].sum(-1)
    held = np.maximum(np.maximum(bilabial[:, :-2], bilabial[:, 1:-1]), bilabial[:, 2:])
    return 0.25 * held[:, :-2] + 0.5 * held[:, 1:-1] + 0.25 * held[:, 2:]


def evidence_offline(mel: np.ndarray, session=None) -> np.ndarray:
    """Whole clips [B, T, 80] -> bilabial evidence [B, T] per frame. The last LOOKAHEAD frames see only the
    silence after the clip, as a stream's do once it is flushed; callers pad with silence first for that."""
    b, t = mel.shape[:2]
    c, _ = _normalise(cepstra(mel), new_state(b)[:, :N_CEPS])
    before = np.broadcast_to(_silence_before(), (b, LOOKAHEAD, N_CEPS))  # as a stream's history starts
    after = np.repeat(c[:, -1:], LOOKAHEAD, axis=1) if t else np.zeros((b, LOOKAHEAD, N_CEPS), np.float32)
    return evidence_from_loglik(phone_loglik(np.concatenate([before, c, after], axis=1), session))


def evidence_step(mel: np.ndarray, state: np.ndarray, delay: int = LOOKAHEAD,
                  session=None) -> tuple[np.ndarray, np.ndarray]:
    """New frames [B, K, 80] of each stream -> (evidence [B, K] for the K frames that end ``delay`` frames
    before the newest, next state). ``delay`` >= LOOKAHEAD: the network's own output delay, say. Each frame's
    phone likelihoods are computed once, when its delta context is complete, and kept in the state."""
    b, k = mel.shape[:2]
    reach = LOOKAHEAD - CONTEXT  # likelihood rows an evidence frame reads either side
    if not (k <= MAX_STEP and LOOKAHEAD <= delay <= LOGLIK_HISTORY - k - 2 * reach + LOOKAHEAD):
        raise ValueError(f"evidence_step: steps of {k} frames with a delay of {delay} need steps of at most "
                         f"{MAX_STEP} and {LOOKAHEAD} <= delay <= {LOGLIK_HISTORY - k - 2 * reach + LOOKAHEAD}")
    mean, ceps_at = state[:, :N_CEPS], N_CEPS + CEPS_HISTORY * N_CEPS
    c, mean = _normalise(cepstra(mel), mean)
    ceps = np.concatenate([state[:, N_CEPS:ceps_at].reshape(b, CEPS_HISTORY, N_CEPS), c], axis=1)
    loglik = np.concatenate([state[:, ceps_at:].reshape(b, LOGLIK_HISTORY, len(PHONES)),
                             phone_loglik(ceps[:, -(k + 2 * CONTEXT):], session)], axis=1)[:, -LOGLIK_HISTORY:]
    # The newest likelihood row is frame (newest - CONTEXT); the evidence frames end (delay - LOOKAHEAD) earlier.
    end = LOGLIK_HISTORY - (delay - LOOKAHEAD)
    evidence = evidence_from_loglik(loglik[:, end - (k + 2 * reach):end])
    next_state = np.concatenate([mean, ceps[:, -CEPS_HISTORY:].reshape(b, -1), loglik.reshape(b, -1)], axis=1)
    return evidence, next_state
