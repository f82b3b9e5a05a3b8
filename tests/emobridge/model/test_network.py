import pytest

torch = pytest.importorskip("torch")

from emobridge.model.network import COND_INPUTS, EmotionEmbedding, EmotionRecognizer, FaceNet, NetConfig  # noqa: E402


def _net(closure_hidden: int = 0) -> FaceNet:
    torch.manual_seed(1)
    net = FaceNet(NetConfig(channels=24, dilations=(1, 2, 4, 1), lookahead=4, stride=2, closure_hidden=closure_hidden))
    for p in net.film.parameters():
        torch.nn.init.normal_(p, std=0.2)
    return net.eval()


@pytest.mark.parametrize("closure_hidden", [0, 16])
def test_streaming_steps_equal_the_offline_pass(closure_hidden):
    net = _net(closure_hidden)
    mel, cond = torch.randn(3, 40, 80), torch.rand(3, 40, COND_INPUTS)
    with torch.no_grad():
        full = net(mel, cond)
        state = torch.zeros(3, 24, net.config.state_size)
        steps = []
        for t in range(0, 40, 2):
            y, state = net.step(mel[:, t:t + 2], cond[:, t + 1], state)
            steps.append(y)
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)


@pytest.mark.parametrize("closure_hidden", [0, 16])
def test_network_is_causal(closure_hidden):
    net = _net(closure_hidden)
    mel, cond = torch.randn(1, 30, 80), torch.rand(1, 30, COND_INPUTS)
    changed = mel.clone()
    changed[:, 20:] += 5.0
    with torch.no_grad():  # a step of two frames: frames 20-21 form one step, so 0-19 are untouched
        assert torch.allclose(net(mel, cond)[:, :20], net(changed, cond)[:, :20])
        assert not torch.allclose(net(mel, cond)[:, 20:], net(changed, cond)[:, 20:])


def test_neutral_emotion_embeds_to_zero_and_blends_move_smoothly():
    emb = EmotionEmbedding(8)
    assert torch.equal(emb(torch.zeros(2, 7)), torch.zeros(2, 8))
    a, b = torch.eye(7)[0], torch.eye(7)[1]
    path = torch.stack([emb((1 - k) * a + k * b) for k in torch.linspace(0, 1, 11)])
    assert (path.diff(dim=0).norm(dim=1) < 0.5 * (path[0] - path[-1]).norm()).all()


def test_lookahead_must_be_a_multiple_of_stride():
    with pytest.raises(ValueError, match="multiple"):
        FaceNet(NetConfig(lookahead=3, stride=2))


def test_recognizer_pools_over_time():
    out = EmotionRecognizer()(torch.rand(4, 17, 52))
    assert out.shape == (4, 7)


@pytest.mark.parametrize("closure_hidden", [0, 16])
def test_closure_hears_only_the_audio(closure_hidden):
    from emobridge.model.output import CLOSURE_SLOT

    net = _net(closure_hidden)
    mel = torch.randn(2, 40, 80)
    calm, excited = torch.zeros(2, 40, COND_INPUTS), torch.rand(2, 40, COND_INPUTS)
    with torch.no_grad():
        a, b = net(mel, calm), net(mel, excited)
    assert torch.equal(a[..., CLOSURE_SLOT], b[..., CLOSURE_SLOT])  # emotion and style never move the lips' seal
    assert not torch.allclose(a, b)  # ...but they do move the face


def test_bands_below_ignore_below_hz_are_not_heard_offline_or_streaming():
    torch.manual_seed(1)
    config = NetConfig(channels=24, dilations=(1, 2, 4, 1), lookahead=4, stride=2, ignore_below_hz=150.0)
    net = FaceNet(config).eval()
    mel, cond = torch.randn(1, 20, 80), torch.rand(1, 20, COND_INPUTS)
    low, above = mel.clone(), mel.clone()
    low[..., :3] += 5.0    # bands centred at 56, 93 and 129 Hz
    above[..., 3] += 5.0   # 166 Hz
    with torch.no_grad():
        assert torch.equal(net(mel, cond), net(low, cond))
        assert not torch.allclose(net(mel, cond), net(above, cond))
        state = torch.zeros(1, 24, config.state_size)
        assert torch.equal(net.step(mel[:, :2], cond[:, 1], state)[0], net.step(low[:, :2], cond[:, 1], state)[0])
    # Derived from the config, not saved: a checkpoint of a network without the setting loads into one with it.
    assert "band_keep" not in net.state_dict()
    FaceNet(NetConfig(channels=24, dilations=(1, 2, 4, 1), lookahead=4)).load_state_dict(net.state_dict())
