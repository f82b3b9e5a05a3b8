import pytest

from emobridge.cli import main


def test_fit_without_a_corpus_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "fit", "--corpus", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "emobridge train corpus" in capsys.readouterr().err


def test_export_without_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "export", "--checkpoint", str(tmp_path / "c.pt"), "-o", str(tmp_path / "m")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_corpus_rejects_non_positive_hours(tmp_path, capsys):
    assert main(["train", "corpus", "--hours", "0", "--out", str(tmp_path)]) == 2
    assert "--hours" in capsys.readouterr().err


def test_loss_weight_changes_one_weight_and_names_the_valid_ones():
    pytest.importorskip("torch", reason="the training code needs torch")
    from emobridge.cli import CliError
    from emobridge.cli.train import _loss_weights
    from emobridge.train.fit import LOSS_WEIGHTS

    weights = _loss_weights(["closure=3", "emotion=0.2"])
    assert weights == {**LOSS_WEIGHTS, "closure": 3.0, "emotion": 0.2}
    for bad in ("clossure=3", "closure", "closure=x"):
        with pytest.raises(CliError, match="rec, velocity, closure, emotion, mouth"):
            _loss_weights([bad])


def test_fit_rejects_a_network_too_narrow_to_train(tmp_path, capsys):
    pytest.importorskip("torch", reason="the training code needs torch")
    assert main(["train", "fit", "--corpus", str(tmp_path), "--out", str(tmp_path / "o"), "--channels", "4"]) == 2
    assert "--channels must be at least 8, got 4" in capsys.readouterr().err
