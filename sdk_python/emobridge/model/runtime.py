"""ONNX Runtime inference of the face model: offline clips and batched streaming steps.

CUDA when ONNX Runtime has it and ``device`` allows, else CPU. Both graphs share the weights, and
the streaming step caches each block's past inputs, so a live stream costs one step per 20 ms and
reproduces offline inference of the same audio and conditioning. Outputs are in the network's layout
(the mouthClose slot carries bilabial closure): ``emobridge.model.output.to_arkit`` makes ARKit weights.

A model whose model.json asks for ``bilabial_evidence`` also runs ``phone_evidence`` beside the graphs
(PocketSphinx's acoustic model, trained on real voices) and takes the larger of the two closure estimates.
Its running state rides in the same per-stream state array as the graph's, after it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emobridge.audio.features import LOG_FLOOR, N_MELS, StreamingLogMel
from emobridge.model import phone_evidence
from emobridge.model.output import CLOSURE_SLOT

DEFAULT_MODEL_DIR = Path(__file__).with_name("default")
SILENCE_MEL = float(np.log(LOG_FLOOR))


class ModelError(RuntimeError):
    """The model folder is missing, incomplete or from an incompatible version."""


def _providers(device: str) -> list[str | tuple[str, dict[str, str]]]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device not in ("auto", "cpu", "cuda"):
        raise ModelError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and "CUDAExecutionProvider" not in available:
        raise ModelError("device cuda asked for, but this ONNX Runtime has no CUDA provider "
                         "(install onnxruntime-gpu; see docs/model.md)")
    if device != "cpu" and "CUDAExecutionProvider" in available:
        # cuDNN's default exhaustive search times every convolution algorithm on each new input shape: tens
        # of milliseconds per new batch size or clip length, which stalled every live stream of a server
        # whose batch size changes each tick (p99 0.8 s at 64 streams on an H200). Its heuristic picks at once.
        return [("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _limit_blas_threads(threads: int) -> None:
    """Caps numpy's BLAS (OpenBLAS) at ``threads`` for the whole process: it has one pool per process.
    The bilabial evidence's cepstra are numpy products. Left alone, BLAS starts a thread per core and spins them
    between calls, and small per-step products gain nothing from them. When the evidence's Gaussians were numpy
    products too (session 17), a 32-stream server on the 2-core machine used 160% CPU instead of 90%. Its p99 frame
    latency rose from 25-30 ms to 145-155 ms, and ``bench step`` ran 2-3x slower at batch 8-128."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def padded_batch(n: int) -> int:
    """The batch size a device step runs ``n`` streams at: a power of two up to 64, then a multiple of 64,
    so a server meets a few dozen shapes (each warmed up once) instead of every count from 1 to thousands."""
    return 1 << max(0, n - 1).bit_length() if n <= 64 else -(-n // 64) * 64


def _padded(x: np.ndarray, rows: int) -> np.ndarray:
    """``x`` as float32 with ``rows`` zero rows appended along the batch axis."""
    x = x.astype(np.float32)
    return np.concatenate([x, np.zeros((rows, *x.shape[1:]), np.float32)]) if rows else x


class FaceModel:
    """The two ONNX graphs of one model folder (and, when model.json asks, the bilabial evidence). ``threads``:
    ONNX Runtime's intra-op threads, 0 = its default; with the evidence on, a non-zero value also caps numpy's
    BLAS threads, process-wide, at the same number (``_limit_blas_threads``)."""

    def __init__(self, model_dir: str | Path | None = None, device: str = "auto", threads: int = 0) -> None:
        import onnxruntime as ort

        folder = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        meta_path = folder / "model.json"
        if not meta_path.exists():
            raise ModelError(f"{folder}: no model.json; pass a folder written by `emobridge train export`")
        self.meta = json.loads(meta_path.read_text())
        self.meta["folder"] = str(folder)
        if self.meta.get("format") != 1:
            raise ModelError(f"{folder}: model format {self.meta.get('format')} is not supported (expected 1)")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers = _providers(device)
        try:
            self._offline = ort.InferenceSession(str(folder / "face_offline.onnx"), options, providers=providers)
            self._step = ort.InferenceSession(str(folder / "face_step.onnx"), options, providers=providers)
        except Exception as err:  # onnxruntime raises several unrelated types for unreadable files
            raise ModelError(f"{folder}: cannot load the ONNX graphs ({err})") from None
        # ONNX Runtime lists CUDA whenever the provider library is installed, but falls back to CPU with only a
        # warning when the CUDA or cuDNN libraries it needs cannot be loaded: ask the session what it runs on.
        running = self._step.get_providers()
        if device == "cuda" and "CUDAExecutionProvider" not in running:
            raise ModelError("device cuda asked for, but ONNX Runtime could not start its CUDA provider (are the "
                             "CUDA and cuDNN libraries it was built for on LD_LIBRARY_PATH? see docs/model.md)")
        self.device = "cuda" if "CUDAExecutionProvider" in running else "cpu"
        self.pad_batches = self.device == "cuda"  # see padded_batch; CPU cost grows with every padded row
        self.frame_rate = float(self.meta["frame_rate"])
        self.lookahead = int(self.meta["lookahead_frames"])
        self.stride = int(self.meta.get("stride", 1))
        self.graph_state_shape = tuple(self.meta["state_shape"])
        self.evidence = bool(self.meta.get("bilabial_evidence"))
        if self.evidence and self.lookahead < phone_evidence.LOOKAHEAD:
            raise ModelError(f"{folder}: bilabial evidence needs {phone_evidence.LOOKAHEAD} frames of lookahead, "
                             f"the model has {self.lookahead}")
        self._evidence = None  # its phone likelihoods' session, on this model's device
        if self.evidence:
            try:  # fail now, with the reason, if pocketsphinx or its model files are missing
                self._evidence = phone_evidence.loglik_session(providers, threads)
            except phone_evidence.EvidenceError as err:
                raise ModelError(f"{folder}: {err}") from None
            if threads:
                _limit_blas_threads(threads)
        # One flat row per stream: the graph's state, then (with evidence) the evidence's.
        self._graph_state_size = int(np.prod(self.graph_state_shape))
        self.state_shape = (self._graph_state_size + (phone_evidence.STATE_SIZE if self.evidence else 0),)
        self.cond_size = len(self.meta["cond_layout"])

    def infer(self, mel: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """Whole clip: mel [T, 80], cond [T, cond_size] (conditioning of each output frame) -> face [T, 52]."""
        return self.infer_batch(mel[None], cond[None])[0]

    def infer_batch(self, mel: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """Equal-length clips: mel [B, T, 80], cond [B, T, cond_size] -> [B, T, 52]."""
        la, b, t = self.lookahead, mel.shape[0], mel.shape[1]
        fill = (-t) % self.stride
        # Silence after the end lets the last frames see their lookahead (and completes the last step);
        # the graph emits frame j - la at frame j, so frame j gets frame (j - la)'s conditioning.
        mel_in = np.concatenate([mel, np.full((b, la + fill, N_MELS), SILENCE_MEL, np.float32)], axis=1)
        cond_in = np.concatenate([np.repeat(cond[:, :1], la, axis=1), cond, np.repeat(cond[:, -1:], fill, axis=1)],
                                 axis=1)
        out = self._offline.run(None, {"mel": mel_in.astype(np.float32), "cond": cond_in.astype(np.float32)})[0]
        out = out[:, la:la + t]
        if self.evidence:
            seal = phone_evidence.evidence_offline(mel_in, self._evidence)[:, :t]
            out[..., CLOSURE_SLOT] = np.maximum(out[..., CLOSURE_SLOT], seal)
        return out

    def new_state(self, batch: int = 1) -> np.ndarray:
        graph = np.zeros((batch, self._graph_state_size), np.float32)
        return np.concatenate([graph, phone_evidence.new_state(batch)], axis=1) if self.evidence else graph

    def step(self, mel: np.ndarray, cond: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step for a batch of streams: mel [B, stride, 80], cond [B, cond_size], state [B, *state_shape]
        -> (face [B, stride, 52] for frames lookahead behind the newest mel frame, next state)."""
        b, split = len(mel), self._graph_state_size
        graph_state = state[:, :split].reshape(b, *self.graph_state_shape)
        pad = padded_batch(b) - b if self.pad_batches else 0
        face, next_graph = self._step.run(None, {"mel": _padded(mel, pad), "cond": _padded(cond, pad),
                                                 "state": _padded(graph_state, pad)})
        face, next_state = face[:b], next_graph[:b].reshape(b, split)
        if self.evidence:  # frames as late as the graph's: its lookahead behind the newest mel frame
            seal, next_evidence = phone_evidence.evidence_step(mel, state[:, split:], self.lookahead,
                                                                self._evidence)
            face[..., CLOSURE_SLOT] = np.maximum(face[..., CLOSURE_SLOT], seal)
            next_state = np.concatenate([next_state, next_evidence], axis=1)
        return face, next_state

    def warm_up(self, max_batch: int) -> int:
        """Run the streaming step once at every padded batch size up to ``max_batch`` (on CUDA the first call
        at a shape sets up its kernels), so the first live streams do not pay for it. Returns the shapes run."""
        sizes = sorted({padded_batch(n) for n in range(1, max_batch + 1)}) if self.pad_batches else [1]
        for n in sizes:
            self.step(np.zeros((n, self.stride, N_MELS), np.float32), np.zeros((n, self.cond_size), np.float32),
                      self.new_state(n))
        return len(sizes)


class FaceStream:
    """One live stream on its own (the server batches many; this is the reference and the test double).

    ``push(audio16k, cond)`` returns the face frames (100 per second) that became ready; ``cond`` is the
    conditioning in effect for them. ``flush(cond)`` emits the remaining frames at end of audio.
    """

    def __init__(self, model: FaceModel) -> None:
        self.model = model
        self.mel = StreamingLogMel()
        self.state = model.new_state(1)
        self.pending = np.zeros((0, N_MELS), np.float32)
        self.frames_in = 0   # mel frames received
        self.frames_run = 0  # mel frames the network has stepped over

    def _run(self, frames: np.ndarray, cond: np.ndarray, limit: int | None = None) -> np.ndarray:
        k, la = self.model.stride, self.model.lookahead
        self.pending = np.concatenate([self.pending, frames.astype(np.float32)])
        out = []
        while len(self.pending) >= k:
            face, self.state = self.model.step(self.pending[None, :k], cond[None], self.state)
            self.pending = self.pending[k:]
            first = self.frames_run - la  # face frame of face[0, 0]
            self.frames_run += k
            out += [face[0, i] for i in range(k) if 0 <= first + i < (limit if limit is not None else 1 << 62)]
        return np.asarray(out, np.float32).reshape(-1, 52)

    def push(self, audio16k: np.ndarray, cond: np.ndarray) -> np.ndarray:
        mel = self.mel.push(audio16k)
        self.frames_in += len(mel)
        return self._run(mel, np.asarray(cond, np.float32))

    def flush(self, cond: np.ndarray) -> np.ndarray:
        tail = self.mel.flush()
        self.frames_in += len(tail)
        fill = self.model.lookahead + (-self.frames_in) % self.model.stride
        silence = np.full((fill, N_MELS), SILENCE_MEL, np.float32)
        return self._run(np.concatenate([tail, silence]), np.asarray(cond, np.float32), limit=self.frames_in)
