"""Text to speech with the engine's own phone timings (flite, Festival, espeak-ng).

``synthesize(text, voice)`` returns 16 kHz mono float32 audio and the phones the engine actually used,
timed by the engine itself, not by a recogniser:

* flite: ``-psdur`` prints every segment with its end time. Clustergen voices (awb, rms, slt) generate
  audio frame by frame from those durations (within 5 ms of the audio's length). The diphone voices
  (kal, kal16) put each diphone join at a segment boundary, but their audio stops halfway through the
  final pause.
* Festival: a Scheme script synthesises the utterance and prints each ``Segment`` item's ``end``. The
  HTS voice copies them back from the HTS engine's own state durations (exact). The diphone voice's audio
  runs 20-30 ms past the last segment (``Voice.audio_tail_s``).
* espeak-ng: libespeak-ng through ctypes. Phoneme events and the phoneme-alignment output hook both
  give positions in the output samples (see ``_Espeak``).

Engine phone symbols are mapped to ARPAbet with the tables in ``tts_phones.json``. Some symbols
(r-coloured diphthongs, syllabic consonants) become two ARPAbet phones that share the engine's interval.
The trailing pause is trimmed or padded to the audio's length. If the timings and the audio differ by
more than ``TIMING_TOLERANCE_S`` (plus a voice's known tail), ``TTSError`` is raised, since targets built
from such timings would be misaligned.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import pickle
import random
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from emobridge.phonetics.phones import Phone

SAMPLE_RATE = 16000
TIMING_TOLERANCE_S = 0.02
PHONES_PATH = Path(__file__).with_name("tts_phones.json")
_TIMEOUT_S = 120


class TTSError(RuntimeError):
    """Synthesis failed: engine missing, engine error, or timings that do not match the audio."""


@dataclass(frozen=True)
class Voice:
    """One synthetic voice.

    ``pitch`` is the range the seed draws the voice's pitch from, in the engine's own unit: flite and
    the Festival diphone voice take a mean F0 in Hz, espeak-ng its 0-99 pitch. None means the engine
    has no pitch control for this voice. ``rate`` is the normal speaking rate for espeak-ng, in words per
    minute; the other engines ignore it.
    """

    name: str
    engine: str                 # "flite" | "festival" | "espeak"
    engine_voice: str
    pitch: tuple[float, float] | None = None
    rate: float = 175.0
    phone_set: str = "radio"    # key in tts_phones.json ("radio", "espeak", "espeak_nonrhotic")
    trailing_pause_cut: bool = False  # diphone voices whose audio stops halfway through the final pause
    audio_tail_s: float = 0.0  # audio the engine adds after the last segment (Festival's diphone windowing)


def _voices() -> dict[str, Voice]:
    v = [
        Voice("flite/kal", "flite", "kal", (85, 130), trailing_pause_cut=True),    # 8 kHz diphone
        Voice("flite/kal16", "flite", "kal16", (85, 130), trailing_pause_cut=True),
        Voice("flite/awb", "flite", "awb", (85, 125)),
        Voice("flite/rms", "flite", "rms"),                                       # ignores int_f0_target_mean
        Voice("flite/slt", "flite", "slt", (150, 210)),
        Voice("festival/slt_hts", "festival", "voice_cmu_us_slt_arctic_hts"),  # its HTS module reads only -m, -r
        Voice("festival/kal_diphone", "festival", "voice_kal_diphone", (85, 130), audio_tail_s=0.035),
    ]
    espeak = [  # (name, espeak-ng voice, pitch range, words per minute, phone set)
        ("en-us", "en-us", (30, 60), 170, "espeak"),
        ("en-us+f3", "en-us+f3", (40, 75), 165, "espeak"),
        ("en-us+m3", "en-us+m3", (25, 55), 175, "espeak"),
        ("en-us+f5", "en-us+f5", (45, 80), 160, "espeak"),
        ("en-us+m7", "en-us+m7", (20, 50), 170, "espeak"),
        ("en-us+klatt", "en-us+klatt", (30, 60), 170, "espeak"),
        ("en-us+klatt4", "en-us+klatt4", (40, 70), 165, "espeak"),
        ("en", "en", (30, 60), 175, "espeak_nonrhotic"),
        ("en+f3", "en+f3", (40, 75), 165, "espeak_nonrhotic"),
        ("en+m3", "en+m3", (25, 55), 175, "espeak_nonrhotic"),
        ("en-gb-x-rp+f2", "en-gb-x-rp+f2", (40, 75), 165, "espeak_nonrhotic"),
        ("en-gb-scotland", "en-gb-scotland", (30, 60), 170, "espeak"),
    ]
    v += [Voice(f"espeak/{n}", "espeak", ev, p, r, ps) for n, ev, p, r, ps in espeak]
    return {voice.name: voice for voice in v}


VOICES: dict[str, Voice] = _voices()
# Never in the corpus: a voice the model has not heard, for probing how it generalises
# (benchmarks/closure_probe.py --held-out-voice). Debian: festvox-kdlpc16k.
HELD_OUT_VOICE = Voice("festival/ked_diphone", "festival", "voice_ked_diphone", (85, 130), audio_tail_s=0.035)
ENGINES = ("flite", "festival", "espeak")


@lru_cache(maxsize=1)
def phone_tables() -> dict[str, dict[str, tuple[str, ...]]]:
    """tts_phones.json as {table: {engine symbol: ARPAbet phones}}; override tables include their base."""
    raw = json.loads(PHONES_PATH.read_text(encoding="utf-8"))
    tables = {k: {s: (tuple(v) if isinstance(v, list) else (v,)) for s, v in t.items()}
              for k, t in raw.items() if not k.startswith("_")}
    tables["espeak_nonrhotic"] = {**tables["espeak"], **tables["espeak_nonrhotic"]}
    return tables


# ------------------------------------------------------------------------------------ engine presence


@cache
def _festival_voices() -> frozenset[str]:
    if not shutil.which("festival"):
        return frozenset()
    try:
        out = subprocess.run(["festival", "-b", "(print (voice.list))"], capture_output=True, text=True,
                             timeout=_TIMEOUT_S).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset("voice_" + name for name in re.findall(r"[\w-]+", out))


@cache
def _flite_voices() -> frozenset[str]:
    if not shutil.which("flite"):
        return frozenset()
    out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=_TIMEOUT_S).stdout
    return frozenset(out.partition(":")[2].split())


def engine_available(engine: str) -> bool:
    """Whether the engine (binary or library) can be used on this machine."""
    if engine == "flite":
        return bool(_flite_voices())
    if engine == "festival":
        return bool(_festival_voices())
    if engine == "espeak":
        try:
            _Espeak.instance()
        except TTSError:
            return False
        return True
    raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")


def voice_available(voice: str | Voice) -> bool:
    v = _voice(voice)
    if v.engine == "flite":
        return v.engine_voice in _flite_voices()
    if v.engine == "festival":
        return v.engine_voice in _festival_voices()
    return engine_available(v.engine)


def available_voices() -> list[str]:
    """Names of the voices in VOICES whose engine and voice data are installed here."""
    return [name for name, v in VOICES.items() if voice_available(v)]


def _voice(voice: str | Voice) -> Voice:
    if isinstance(voice, Voice):
        return voice
    try:
        return VOICES[voice]
    except KeyError:
        raise TTSError(f"unknown voice {voice!r}; known voices: {', '.join(VOICES)}") from None


# -------------------------------------------------------------------------------------------- public


def synthesize(text: str, voice: str | Voice, rate_scale: float = 1.0,
               seed: int | None = None) -> tuple[np.ndarray, list[Phone]]:
    """Speak ``text`` with ``voice``. Returns (16 kHz mono float32 audio, phones with the engine's timings).

    ``rate_scale`` > 1 speaks faster (shorter phones), < 1 slower. ``seed`` picks the voice's pitch from
    its range (same seed, same pitch). Without a seed the engine's default pitch is used. Phones are
    contiguous from 0 to the end of the audio, with labels ARPAbet or "SIL".
    """
    v = _voice(voice)
    if not text or not text.strip():
        raise TTSError(f"{v.name}: the text is empty")
    if not 0.25 <= rate_scale <= 4.0:
        raise TTSError(f"{v.name}: rate_scale must be between 0.25 and 4, got {rate_scale}")
    pitch = None
    if seed is not None and v.pitch is not None:
        pitch = random.Random(f"{v.name}/{seed}").uniform(*v.pitch)
    text = " ".join(text.split())
    if v.engine == "flite":
        audio, rate, raw = _flite(text, v, rate_scale, pitch)
    elif v.engine == "festival":
        audio, rate, raw = _festival(text, v, rate_scale, pitch)
    elif v.engine == "espeak":
        audio, rate, raw = _Espeak.instance().synth(text, v, rate_scale, pitch)
    else:
        raise TTSError(f"{v.name}: unknown engine {v.engine!r}")
    audio = _resample(audio, rate)
    phones = _finish(raw, len(audio) / SAMPLE_RATE, v)
    return audio, phones


def timing_error(text: str, voice: str | Voice, rate_scale: float = 1.0) -> float:
    """Raw engine mismatch in seconds: end of the engine's last phone minus audio length.

    Diphone voices lose half the final pause (their audio stops in its middle), so for them the
    half pause is added back before comparing. Used to check that timings are exact.
    """
    v = _voice(voice)
    text = " ".join(text.split())
    if v.engine == "flite":
        audio, rate, raw = _flite(text, v, rate_scale, None)
    elif v.engine == "festival":
        audio, rate, raw = _festival(text, v, rate_scale, None)
    else:
        audio, rate, raw = _Espeak.instance().synth(text, v, rate_scale, None)
    end = raw[-1][1]
    if v.trailing_pause_cut and len(raw) > 1:
        end -= (raw[-1][1] - raw[-2][1]) / 2
    return end - len(audio) / rate


# ------------------------------------------------------------------------------------------- helpers


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        g = gcd(SAMPLE_RATE, rate)
        audio = resample_poly(audio, SAMPLE_RATE // g, rate // g)
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def _finish(raw: list[tuple[str, float]], duration: float, v: Voice) -> list[Phone]:
    """(engine symbol, end time) pairs -> contiguous ARPAbet phones covering [0, duration]."""
    table = phone_tables()[v.phone_set]
    phones: list[Phone] = []
    start = 0.0
    for symbol, end in raw:
        labels = table.get(symbol)
        if labels is None:
            raise TTSError(f"{v.name}: no ARPAbet mapping for the engine's phone {symbol!r} "
                           f"(add it to {PHONES_PATH.name}, table {v.phone_set!r})")
        if end < start - 1e-6:
            raise TTSError(f"{v.name}: the engine's phone times go backwards at {symbol!r} ({end:.3f} < {start:.3f})")
        step = (end - start) / len(labels)
        for i, label in enumerate(labels):
            phones.append(Phone(label, start + i * step, start + (i + 1) * step if i < len(labels) - 1 else end))
        start = max(start, end)
    # The last real phone must end inside the audio (allowing the tolerance): only the trailing pause may move.
    speech_end = max((p.end for p in phones if p.label != "SIL"), default=0.0)
    if speech_end > duration + TIMING_TOLERANCE_S:
        raise TTSError(f"{v.name}: the engine's timings run {speech_end - duration:.3f} s past the audio; "
                       "they are not the audio's timings")
    if not v.trailing_pause_cut and not -TIMING_TOLERANCE_S - v.audio_tail_s <= start - duration <= TIMING_TOLERANCE_S:
        raise TTSError(f"{v.name}: the engine's timings end at {start:.3f} s but the audio lasts {duration:.3f} s")
    return _cover(phones, duration)


def _cover(phones: list[Phone], duration: float) -> list[Phone]:
    """Merge neighbouring silences, drop empty phones, clip to the audio and pad the end with silence."""
    out: list[Phone] = []
    for p in phones:
        start, end = min(p.start, duration), min(p.end, duration)
        if end - start <= 1e-6:
            continue
        if out and out[-1].label == "SIL" and p.label == "SIL":
            out[-1] = out[-1]._replace(end=end)
        else:
            out.append(Phone(p.label, start, end))
    if not out:
        return [Phone("SIL", 0.0, duration)]
    out[0] = out[0]._replace(start=0.0)
    if duration - out[-1].end > 1e-6:
        if out[-1].label == "SIL":
            out[-1] = out[-1]._replace(end=duration)
        else:
            out.append(Phone("SIL", out[-1].end, duration))
    return out


# --------------------------------------------------------------------------------------------- flite


def _flite(text: str, v: Voice, rate_scale: float, pitch: float | None) -> tuple[np.ndarray, int, list]:
    if v.engine_voice not in _flite_voices():
        raise TTSError(f"{v.name}: flite is not installed or has no voice {v.engine_voice!r} "
                       "(Debian: apt-get install flite)")
    with tempfile.TemporaryDirectory(prefix="emobridge-tts-") as tmp:
        wav = os.path.join(tmp, "out.wav")
        cmd = ["flite", "-voice", v.engine_voice, "--setf", f"duration_stretch={1.0 / rate_scale:.4f}"]
        if pitch is not None:
            cmd += ["--setf", f"int_f0_target_mean={pitch:.1f}"]
        # flite reads an em-dash as nothing; "--" gives the pause the text asks for
        cmd += ["-psdur", "-t", text.replace("\u2014", " -- "), "-o", wav]
        out, _ = _run(cmd, v)
        audio, rate = sf.read(wav, dtype="float32", always_2d=False)
    raw: list[tuple[str, float]] = []
    offset = 0.0
    for line in out.splitlines():  # one line per utterance; times restart at 0 on each line
        items = re.findall(r"(\S+):(\d+(?:\.\d+)?)", line)
        if not items:
            continue
        raw += [(name, offset + float(end)) for name, end in items]
        offset = raw[-1][1]
    if not raw:
        raise TTSError(f"{v.name}: flite printed no segment timings for {text[:40]!r}")
    return audio, rate, raw


# ------------------------------------------------------------------------------------------ festival


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _festival(text: str, v: Voice, rate_scale: float, pitch: float | None) -> tuple[np.ndarray, int, list]:
    if v.engine_voice not in _festival_voices():
        raise TTSError(f"{v.name}: Festival is not installed or has no voice {v.engine_voice!r} "
                       "(Debian: apt-get install festival festvox-us-slt-hts festvox-kallpc16k)")
    hts = "hts" in v.engine_voice
    with tempfile.TemporaryDirectory(prefix="emobridge-tts-") as tmp:
        wav = os.path.join(tmp, "out.wav")
        lines = [f"({v.engine_voice})"]
        if hts:  # Festival's HTS module ignores Duration_Stretch and reads only "-m" (model) and "-r" (speed)
            lines.append(f'(set! hts_engine_params (cons (list "-r" {rate_scale:.4f}) hts_engine_params))')
        else:
            lines.append(f"(Parameter.set 'Duration_Stretch {1.0 / rate_scale:.4f})")
            if pitch is not None:
                lines.append(f"(set! int_lr_params '((target_f0_mean {pitch:.1f}) (target_f0_std {pitch * 0.14:.1f}) "
                             "(model_f0_mean 170) (model_f0_std 34)))")
        lines += [
            f"(set! emob_utt (Utterance Text {_scheme_string(text)}))",
            "(utt.synth emob_utt)",
            f"(utt.save.wave emob_utt {_scheme_string(wav)} 'riff)",
            '(format t "EMOB-SEGMENTS\\n")',
            "(mapcar (lambda (s) (format t \"%s %f\\n\" (item.name s) (item.feat s \"end\"))) "
            "(utt.relation.items emob_utt 'Segment))",
        ]
        script = os.path.join(tmp, "synth.scm")
        Path(script).write_text("\n".join(lines) + "\n", encoding="utf-8")
        out, err = _run(["festival", "-b", script], v)
        if "segment mismatch" in err:  # HTS durations could not be copied back onto the Segment items
            raise TTSError(f"{v.name}: Festival's HTS output segments did not match the utterance's: {err[-200:]}")
        if not os.path.exists(wav):
            raise TTSError(f"{v.name}: Festival wrote no audio for {text[:40]!r}")
        audio, rate = sf.read(wav, dtype="float32", always_2d=False)
    _, _, body = out.partition("EMOB-SEGMENTS")
    raw = [(name, float(end)) for name, end in re.findall(r"^(\S+) (-?\d+(?:\.\d+)?)$", body, flags=re.M)]
    if not raw:
        raise TTSError(f"{v.name}: Festival printed no segment timings for {text[:40]!r}")
    return audio, rate, raw


def _run(cmd: list[str], v: Voice) -> tuple[str, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except FileNotFoundError:
        raise TTSError(f"{v.name}: {cmd[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise TTSError(f"{v.name}: {cmd[0]} took longer than {_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        raise TTSError(f"{v.name}: {cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return proc.stdout, proc.stderr


# ----------------------------------------------------------------------------------------- espeak-ng

_EVENT_PHONEME, _EVENT_LIST_TERMINATED = 7, 0
_ESPEAK_RATE, _ESPEAK_PITCH = 1, 3
_PH_PAUSE, _PH_VOWEL, _PH_LIQUID, _PH_NASAL = 0, 2, 3, 8
# A vowel's onset transition after a nasal, from its event back to the nasal's release: the Klatt
# generator's hook sits 31-45 ms (p10-p90, median 36) before the event.
_NASAL_VOWEL_ONSET_S = 0.036
_SENTINEL = -32768  # espeak-ng never writes this sample value (its limiter keeps samples above it)


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT from speak_lib.h
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_PHO_SYMBOL = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int)


class _OutputHooks(ctypes.Structure):  # espeak_ng_OUTPUT_HOOKS from espeak_ng.h
    _fields_ = [("outputPhoSymbol", _PHO_SYMBOL), ("outputSilence", ctypes.c_void_p),
                ("outputVoiced", ctypes.c_void_p), ("outputUnvoiced", ctypes.c_void_p)]


class _Espeak:
    """libespeak-ng in synchronous mode (one per process, used under a lock).

    Two timing sources, both sample-exact positions in the output:

    * phoneme events (``espeakEVENT_PHONEME``): queued after a phoneme's pre-pause (the closure
      silence of a stop, a word gap), and for a vowel after a nasal or liquid only after the vowel's
      onset transition, which acoustically still belongs to the consonant;
    * the phoneme-alignment output hook: queued before anything of the phoneme, pre-pause included.
      The hook gives no position, so the output buffer is filled with a sentinel after each audio
      callback and the hook counts the samples written since.

    A phoneme starts at its alignment position, except a vowel after a liquid, which starts halfway
    between its alignment position and its event (see ``_merge``).

    espeak-ng carries state from one utterance to the next (the default generator's pitch-synchronous
    lengths, flutter, noise), so the same call gave different audio depending on what the process had
    spoken before, and corpus builds depended on how clips fell to workers. Where ``os.fork`` exists each
    utterance is therefore spoken in a forked child, which starts from the state the warm-up left.
    """

    _instance: _Espeak | None = None
    _pid = -1
    _lock = threading.Lock()

    @classmethod
    def instance(cls) -> _Espeak:
        with cls._lock:
            if cls._instance is None or cls._pid != os.getpid():
                cls._instance, cls._pid = cls(), os.getpid()
            return cls._instance

    def __init__(self):
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError:
            raise TTSError("espeak-ng voices need libespeak-ng (Debian: apt-get install espeak-ng)") from None
        # AUDIO_OUTPUT_SYNCHRONOUS = 2, default buffer; options: espeakINITIALIZE_PHONEME_EVENTS = 1
        self.rate = self.lib.espeak_Initialize(2, 0, None, 1)
        if self.rate <= 0:
            raise TTSError("espeak-ng voices: espeak_Initialize failed (is espeak-ng-data installed?)")
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self._buffer: np.ndarray | None = None  # view of espeak's output buffer (fixed after initialisation)
        self._reset()
        self._callback = _CALLBACK(self._on_audio)  # keep references: the library calls these
        self._on_symbol_ref = _PHO_SYMBOL(self._on_symbol)
        self._hooks = _OutputHooks(self._on_symbol_ref, None, None, None)
        self.lib.espeak_SetSynthCallback(self._callback)
        self.has_hooks = hasattr(self.lib, "espeak_ng_SetOutputHooks") and \
            self.lib.espeak_ng_SetOutputHooks(ctypes.byref(self._hooks)) == 0
        # warm up: one full output buffer tells its address and size, needed by the hook
        self._speak("en", "Warm up: this sentence is long enough to fill the output buffer at least once.")

    def _reset(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[int, str]] = []
        self.symbols: list[tuple[int, str, int]] = []
        self.delivered = 0

    def _on_audio(self, wav, count, events) -> int:
        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
            same = self._buffer is not None and self._buffer.ctypes.data == ctypes.cast(wav, ctypes.c_void_p).value
            size = max(count, len(self._buffer) if same else 0)
            self._buffer = np.ctypeslib.as_array(wav, (size,))
            self._buffer[:] = _SENTINEL  # what espeak writes next overwrites these from the start
            self.delivered += count
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_PHONEME:
                self.events.append((events[i].sample, events[i].id.string.decode("ascii", "replace")))
            i += 1
        return 0

    def _on_symbol(self, code, kind) -> None:
        written = 0
        if self._buffer is not None:
            filled = np.flatnonzero(self._buffer != _SENTINEL)
            written = int(filled[-1]) + 1 if len(filled) else 0
        symbol = (code or b"").decode("ascii", "replace").strip("'%,=")
        self.symbols.append((self.delivered + written, symbol, kind))

    def _speak(self, voice: str, text: str, rate: float = 175.0, pitch: float = 50.0) -> None:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise TTSError(f"espeak-ng has no voice {voice!r}")
        self.lib.espeak_SetParameter(_ESPEAK_RATE, int(round(np.clip(rate, 80, 450))), 0)
        self.lib.espeak_SetParameter(_ESPEAK_PITCH, int(round(np.clip(pitch, 0, 99))), 0)
        self._reset()
        data = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(data, len(data))
        # position 0, POS_CHARACTER = 1, end 0, espeakCHARS_UTF8 = 1
        status = self.lib.espeak_Synth(buffer, len(data), 0, 1, 0, 1, None, None)
        self.lib.espeak_Synchronize()
        if status != 0:
            raise TTSError(f"espeak_Synth failed with status {status}")

    def _speak_isolated(self, voice: str, text: str, rate: float, pitch: float) -> tuple[np.ndarray, list, list]:
        """Speak in a forked child (see the class docstring); returns samples, events and hook symbols."""
        def spoken() -> tuple[np.ndarray, list, list]:
            self._speak(voice, text, rate, pitch)
            return (np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)), self.events, self.symbols

        if not hasattr(os, "fork"):
            return spoken()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: speak, send the result (or the error's text) back, exit without cleanup
            try:
                os.close(read_end)
                try:
                    result: object = spoken()
                except TTSError as err:
                    result = err.args[0]
                with os.fdopen(write_end, "wb") as out:
                    pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        if not payload:
            raise TTSError("espeak-ng stopped without a result (the synthesis process died)")
        result = pickle.loads(payload)
        if isinstance(result, str):
            raise TTSError(result)
        return result

    def synth(self, text: str, v: Voice, rate_scale: float, pitch: float | None) -> tuple[np.ndarray, int, list]:
        with self._lock:
            try:
                samples, events, symbols = self._speak_isolated(v.engine_voice, text, v.rate * rate_scale,
                                                                50.0 if pitch is None else pitch)
            except TTSError as err:
                raise TTSError(f"{v.name}: {err}") from None
        audio = samples.astype(np.float32) / 32768.0
        if not events:
            raise TTSError(f"{v.name}: espeak-ng reported no phonemes for {text[:40]!r}")
        starts = _merge(events, symbols if self.has_hooks else [], round(_NASAL_VOWEL_ONSET_S * self.rate))
        # each phoneme ends where the next starts, the last at the end of the audio
        raw: list[tuple[str, float]] = []
        if starts[0][0] > 0:
            raw.append(("_", starts[0][0] / self.rate))
        for (_, symbol), (nxt, _) in zip(starts, starts[1:] + [(len(audio), "")], strict=True):
            raw.append((symbol, nxt / self.rate))
        return audio, self.rate, raw


def _merge(events: list[tuple[int, str]], symbols: list[tuple[int, str, int]],
           nasal_onset: int | None = None) -> list[tuple[int, str]]:
    """Phoneme start samples: the alignment-hook position where one matches, else the event position.

    Each event is matched to the latest hook entry with the same symbol at or before it (the hook can
    repeat an entry when espeak resumes generation). A vowel after a liquid (l, r, w, j) starts halfway
    between the two: espeak's event comes after the liquid-to-vowel glide, the hook before it, and
    measured against forced alignment the first is ~19 ms late and the second ~25 ms early.
    A vowel after a nasal starts at its hook but (given ``nasal_onset``) no earlier than that many samples
    before its event: espeak's default (non-Klatt) wave generator runs the hook of such a vowel before it
    has written the nasal, at the nasal's own start, which left half the /m/s before a vowel 0-10 ms long
    or gone (measured against forced alignment, those vowels started ~50 ms early; now ~10 ms).
    """
    starts: list[tuple[int, str]] = []
    j, prev_kind = 0, _PH_PAUSE
    for position, symbol in events:
        k, match = j, None
        while k < len(symbols) and symbols[k][0] <= position:
            if symbols[k][1] == symbol:
                match = k
            elif match is not None:
                break
            k += 1
        start = position
        if match is not None:
            kind, hook = symbols[match][2], symbols[match][0]
            start = hook
            if kind == _PH_VOWEL and prev_kind == _PH_LIQUID:
                start = (hook + position) // 2  # the onset glide belongs to both: split it evenly
            elif kind == _PH_VOWEL and prev_kind == _PH_NASAL and nasal_onset is not None:
                start = max(hook, position - nasal_onset)
            prev_kind, j = kind, match + 1
        if starts and start < starts[-1][0]:
            start = starts[-1][0]
        starts.append((start, symbol))
    return starts
