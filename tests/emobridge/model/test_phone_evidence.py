"""emobridge.model.phone_evidence: PocketSphinx's acoustic model as a per-frame bilabial detector."""

import sys

import numpy as np
import pytest

from emobridge.model import phone_evidence as pe

pytest.importorskip("pocketsphinx")


def _speechlike_mel(frames: int, seed: int = 0) -> np.ndarray:
    from emobridge.audio import log_mel

    rng = np.random.default_rng(seed)
    t = np.arange(frames * 160) / 16000
    voice = np.sin(2 * np.pi * 120 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(t.size)
    return log_mel((0.3 * voice).astype(np.float32))


def test_streaming_steps_equal_offline_at_any_delay():
    mel = _speechlike_mel(120)
    for delay in (pe.LOOKAHEAD, 8):
        offline = pe.evidence_offline(mel[None])[0]
        state, streamed = pe.new_state(1), []
        padded = np.concatenate([mel, np.full((delay, 80), np.log(1e-5), np.float32)])  # a flushed stream
        for i in range(0, len(padded), 2):
            ev, state = pe.evidence_step(padded[None, i:i + 2], state, delay=delay)
            streamed.extend(ev[0])
        # step i's evidence is for frames i + 2 - delay - 2 .. i + 2 - delay - 1: drop those before frame 0
        streamed = np.asarray(streamed)[delay:delay + len(mel)]
        offline_flushed = pe.evidence_offline(padded[None])[0][:len(mel)]
        np.testing.assert_allclose(streamed, offline_flushed, atol=1e-4)
        assert offline.shape == (len(mel),) and np.all((offline >= 0) & (offline <= 1))


def test_a_delay_outside_the_history_is_refused():
    with pytest.raises(ValueError, match="delay"):
        pe.evidence_step(np.zeros((1, 2, 80), np.float32), pe.new_state(1), delay=pe.LOOKAHEAD - 1)
    with pytest.raises(ValueError, match="delay"):
        pe.evidence_step(np.zeros((1, 2, 80), np.float32), pe.new_state(1), delay=pe.LOGLIK_HISTORY)


def test_our_mel_bands_rebuild_sphinx_filters():
    from emobridge.audio.features import _mel_filterbank

    target = pe._sphinx_filterbank()
    rebuilt = (_mel_filterbank().T @ pe._filterbank_map()).T
    # Each filter's shape within 8% of Sphinx's own on average (the lowest and narrowest one, 11%).
    error = np.abs(rebuilt - target).sum(1) / target.sum(1)
    assert error.mean() < 0.08 and error.max() < 0.15, error.round(3)


def test_bilabials_stand_out_in_synthetic_speech():
    from emobridge.audio import log_mel
    from emobridge.train import tts

    voice = "flite/slt"
    if not tts.voice_available(voice):
        pytest.skip(f"{voice} is not installed (setup.sh installs flite)")
    audio, phones = tts.synthesize("My mom may buy a map. Bob and Pam moved to a big boat by the bay.", voice)
    evidence = pe.evidence_offline(log_mel(audio)[None])[0]
    peak = lambda p: evidence[int(p.start * 100):max(int(p.start * 100) + 1, int(p.end * 100))].max()  # noqa: E731
    bilabial = [peak(p) for p in phones if p.label in pe.BILABIALS]
    # a vowel's middle (its edges touch the bilabials around it in this sentence)
    vowels = [evidence[int(50 * (p.start + p.end))] for p in phones
              if p.label in {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "EY", "IY", "OW", "UW"}]
    assert len(bilabial) >= 12
    assert np.mean(np.asarray(bilabial) > 0.5) >= 0.75, np.round(bilabial, 2)
    assert np.mean(np.asarray(vowels) > 0.5) <= 0.15, np.round(vowels, 2)


def test_missing_pocketsphinx_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    with pytest.raises(pe.EvidenceError, match="pocketsphinx"):
        pe.acoustic_model_dir()


def test_export_turns_evidence_on_only_with_room_for_its_lookahead(tiny_model_dir, tiny_evidence_model_dir):
    import json

    from emobridge.model import FaceModel

    assert "bilabial_evidence" not in json.loads((tiny_model_dir / "model.json").read_text())  # 40 ms
    assert json.loads((tiny_evidence_model_dir / "model.json").read_text())["bilabial_evidence"] == pe.SOURCE
    assert not FaceModel(tiny_model_dir, device="cpu").evidence


def test_a_model_with_evidence_seals_at_least_where_the_evidence_does(tiny_evidence_model_dir):
    import json

    from emobridge.model import FaceModel
    from emobridge.model.output import CLOSURE_SLOT

    meta = json.loads((tiny_evidence_model_dir / "model.json").read_text())
    model = FaceModel(tiny_evidence_model_dir, device="cpu")
    assert model.evidence and model.state_shape == (int(np.prod(meta["state_shape"])) + pe.STATE_SIZE,)
    mel = _speechlike_mel(80)
    face = model.infer(mel, np.zeros((len(mel), model.cond_size), np.float32))
    padded = np.concatenate([mel, np.full((model.lookahead, 80), np.log(1e-5), np.float32)])
    assert np.all(face[:, CLOSURE_SLOT] >= pe.evidence_offline(padded[None])[0][:len(mel)] - 1e-6)


def test_a_model_with_evidence_streams_and_batches_as_it_bakes(tiny_evidence_model_dir):
    from emobridge.audio import log_mel
    from emobridge.model import FaceModel, FaceStream

    model = FaceModel(tiny_evidence_model_dir, device="cpu")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 + 123)).astype(np.float32)
    cond = np.zeros(model.cond_size, np.float32)
    offline = model.infer(log_mel(audio), np.repeat(cond[None], len(log_mel(audio)), axis=0))
    stream = FaceStream(model)
    chunks = [stream.push(audio[i:i + 320], cond) for i in range(0, len(audio), 320)]
    np.testing.assert_allclose(np.concatenate(chunks + [stream.flush(cond)]), offline, atol=1e-4)
    mel = rng.standard_normal((3, 2, 80)).astype(np.float32)
    batch, state = model.step(mel, np.zeros((3, model.cond_size), np.float32), model.new_state(3))
    for i in range(3):
        single, single_state = model.step(mel[i:i + 1], np.zeros((1, model.cond_size), np.float32), model.new_state(1))
        np.testing.assert_allclose(batch[i], single[0], atol=1e-5)
        np.testing.assert_allclose(state[i], single_state[0], atol=1e-4)


def test_a_model_asking_for_evidence_without_room_for_its_lookahead_is_refused(tmp_path, tiny_evidence_model_dir):
    import json
    import shutil

    from emobridge.model import FaceModel, ModelError

    shutil.copytree(tiny_evidence_model_dir, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["lookahead_frames"] = pe.LOOKAHEAD - 1
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="lookahead"):
        FaceModel(tmp_path / "m")


def test_silence_gives_no_evidence_even_where_a_stream_starts():
    from emobridge.audio import log_mel

    # A stream's history starts as silence: no jump into the first frames that could read as a closure.
    assert pe.evidence_offline(log_mel(np.zeros(16000, np.float32))[None]).max() < 0.01


def test_the_likelihood_graph_computes_each_phones_mixture():
    """The ONNX graph against the mixture written out in float64: log of the mean of each phone's densities,
    summed over the three streams (cepstra, deltas, double deltas)."""
    g = pe.acoustic_model()[0].astype(np.float64)
    c = np.random.default_rng(3).normal(0.0, 4.0, (2, 2 * pe.CONTEXT + 5, pe.N_CEPS)).astype(np.float32)
    got = pe.phone_loglik(c)
    inner = c.shape[1] - 2 * pe.CONTEXT
    at = lambda k: c[:, pe.CONTEXT + k:pe.CONTEXT + k + inner].astype(np.float64)  # noqa: E731
    want = 0.0
    for s, x in enumerate((at(0), at(2) - at(-2), (at(3) - at(-1)) - (at(1) - at(-3)))):
        density = np.concatenate([x * x, x, np.ones((*x.shape[:2], 1))], axis=-1) @ g[s]
        per_phone = density.reshape(*density.shape[:2], len(pe.PHONES), pe.DENSITIES)
        top = per_phone.max(-1, keepdims=True)
        want = want + (top[..., 0] + np.log(np.exp(per_phone - top).mean(-1)))
    assert got.shape == (2, inner, len(pe.PHONES))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-2)


def test_the_committed_likelihood_graph_is_what_the_builder_makes():
    onnx = pytest.importorskip("onnx")
    assert onnx.load(str(pe.LOGLIK_GRAPH), load_external_data=False) == pe.build_loglik_graph()
    assert pe.LOGLIK_GRAPH.stat().st_size < 2000  # no weights inside: they come from PocketSphinx's files


def test_long_inputs_go_through_the_graph_in_chunks_with_the_same_result(monkeypatch):
    c = np.random.default_rng(5).normal(0.0, 4.0, (3, 2 * pe.CONTEXT + 40, pe.N_CEPS)).astype(np.float32)
    whole = pe.phone_loglik(c)
    monkeypatch.setattr(pe, "LOGLIK_CHUNK", 7)  # 120 frames in 18 calls, the last one short
    # Equal up to float32 rounding: the product's kernels block differently for a different number of rows.
    np.testing.assert_allclose(pe.phone_loglik(c), whole, rtol=1e-6, atol=1e-4)
