"""Cascading model-parameter randomisation (Adebayo et al. 2018) and the four gradient scores:
top layers re-initialised in order with the rest bit-identical, and known answers for the scores."""
import pytest
import torch
from torch import nn

from nblib.interpret import (SCORE_NAMES, cascading_randomization, gradient_scores, mean_scores, parameterised_layers,
                             randomize_layers)
from nblib.models import backbone, make_model


def _states(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _trained_like(kind="directional", **kw):
    """A 'trained' model: the same architecture as its initialisation, every tensor moved away from it."""
    torch.manual_seed(0)
    fresh = make_model(kind, 2, **kw)
    torch.manual_seed(0)
    model = make_model(kind, 2, **kw)
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(0.5)
            else:
                t.add_(7)  # BatchNorm num_batches_tracked
    return model, fresh


def test_parameterised_layers_skip_stateless_layers_and_keep_forward_order():
    m = make_model("directional", 2, positive=True)
    assert parameterised_layers(m) == ["conv1", "bn1", "conv2", "bn2", "smpool", "scale"]
    assert parameterised_layers(make_model("gumbel", 2, mix=True)) == ["conv1", "bn1", "conv3", "mix", "smpool", "scale"]


def test_cascade_reinitialises_the_top_k_layers_and_leaves_the_rest_bit_identical():
    model, fresh = _trained_like(positive=True)
    before = _states(model)
    steps = cascading_randomization(model, fresh)
    layers = parameterised_layers(model)
    assert [st.k for st in steps] == list(range(len(layers) + 1))
    assert steps[0].label == "trained" and steps[2].label == "smpool and above"
    for st in steps:
        assert st.layers == layers[::-1][: st.k]
        assert st.model is not model
        children = dict(st.model.named_children())
        for name in layers:
            got = children[name].state_dict()
            want = (dict(fresh.named_children()) if name in st.layers else dict(model.named_children()))[name].state_dict()
            assert got.keys() == want.keys()
            assert all(torch.equal(got[k], want[k]) for k in got), (st.k, name)
    # the top layer changes, the lower ones do not
    assert not torch.equal(steps[1].model.scale.log_scale, model.scale.log_scale)
    assert torch.equal(steps[1].model.conv2.raw_weight, model.conv2.raw_weight)
    # the last step is the untrained network, buffers included; the trained model is untouched
    last, ref = steps[-1].model.state_dict(), fresh.state_dict()
    assert all(torch.equal(last[k], ref[k]) for k in ref)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_cascade_depth_callable_and_errors():
    model, fresh = _trained_like("gumbel")
    steps = cascading_randomization(model, lambda: fresh, depth=2)
    assert [st.layers for st in steps] == [[], ["scale"], ["scale", "smpool"]]
    with pytest.raises(KeyError, match="not a child"):
        randomize_layers(model, ["nope"], fresh)
    with pytest.raises(RuntimeError):
        randomize_layers(model, ["conv3"], make_model("gumbel", 2, conv3="conv"))  # different architecture


def test_randomised_copy_changes_the_function_only_above_the_cut():
    model, fresh = _trained_like(positive=True)
    model.eval()
    x = torch.randn(4, 3, 32, 32)
    top2 = randomize_layers(model, ["scale", "smpool"], fresh).eval()
    with torch.no_grad():
        assert torch.equal(backbone(top2)(x), backbone(model)(x))          # the backbone is untouched
        assert not torch.allclose(top2(x), model(x))                       # the logits are not
        low = randomize_layers(model, ["conv2"], fresh).eval()
        assert not torch.allclose(backbone(low)(x), backbone(model)(x))


class _Linear(nn.Module):
    """logits = x . w_k for two fixed pictures w_k: every gradient is w_k whatever the input."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)  # (K, 3, 4, 4)

    def forward(self, x):
        return torch.einsum("nchw,kchw->nk", x, self.w)


def test_scores_known_answers_on_linear_maps():
    torch.manual_seed(0)
    a = torch.randn(3, 4, 4)
    x = torch.randn(5, 3, 4, 4)
    kw = dict(n_noise=4, seed=1)
    # opposite class pictures: stable (1), specificity 2; as units: orthogonal-free diversity 1 - (-1) = 2
    s = mean_scores(gradient_scores(_Linear(torch.stack([a, -a])), _Linear(torch.stack([a, -a])), x, **kw))
    assert s.keys() == set(SCORE_NAMES)
    assert s["unit stability"] == pytest.approx(1.0) and s["class stability"] == pytest.approx(1.0)
    assert s["class specificity"] == pytest.approx(2.0) and s["unit diversity"] == pytest.approx(2.0)
    # identical pictures: specificity 0, diversity 0
    same = _Linear(torch.stack([a, a]))
    s = mean_scores(gradient_scores(same, same, x, **kw))
    assert s["class specificity"] == pytest.approx(0.0, abs=1e-6) and s["unit diversity"] == pytest.approx(0.0, abs=1e-6)
    # orthogonal pictures (disjoint supports): specificity 1, diversity 1; skipping parts
    b = torch.zeros(2, 3, 4, 4)
    b[0, 0], b[1, 1] = 1.0, 1.0
    s = gradient_scores(_Linear(b), None, None, shape=(3, 4, 4), **kw)
    assert set(s) == {"class stability"}
    s = mean_scores(gradient_scores(_Linear(b), _Linear(b), x, **kw))
    assert s["class specificity"] == pytest.approx(1.0) and s["unit diversity"] == pytest.approx(1.0)


def test_a_score_that_measures_learning_drops_under_randomisation():
    # a 'trained' linear head with opposite class pictures (specificity 2); re-initialised to two random pictures
    # (independent: specificity about 1), the score drops; stability of a linear map stays 1 (architecture only)
    torch.manual_seed(0)
    a = torch.randn(3, 4, 4)
    trained = nn.Sequential()
    trained.add_module("head", _Linear(torch.stack([a, -a])))
    fresh = nn.Sequential()
    fresh.add_module("head", _Linear(torch.randn(2, 3, 4, 4)))
    x = torch.randn(6, 3, 4, 4)
    t, r = [mean_scores(gradient_scores(st.model, None, x, n_noise=3)) for st in cascading_randomization(trained, fresh)]
    assert t["class specificity"] == pytest.approx(2.0) and r["class specificity"] < 1.6
    assert t["class stability"] == pytest.approx(1.0) and r["class stability"] == pytest.approx(1.0)


def test_randomize_dotted_submodules_of_a_multiscale_model():
    from nblib.models.multiscale import make_multiscale_model, representation_layers
    torch.manual_seed(0)
    fresh = make_multiscale_model(3, ("global", "window"), width=8, units_per_class=4)
    torch.manual_seed(1)
    model = make_multiscale_model(3, ("global", "window"), width=8, units_per_class=4)
    names = representation_layers(model)
    assert names == ["merge.branches.0.conv2", "merge.branches.0.bn2", "merge.branches.1.conv2",
                     "merge.branches.1.bn2", "smpool", "scale"]
    out = randomize_layers(model, names, fresh)
    got, trained, ref = out.state_dict(), model.state_dict(), fresh.state_dict()
    for k in ref:   # the named layers come from fresh, everything else (conv1, every bn1) stays trained
        src = ref if any(k.startswith(n + ".") for n in names) else trained
        assert torch.equal(got[k], src[k]), k
    assert any(not torch.equal(trained[k], ref[k]) for k in ref if k.startswith("conv1"))
    with pytest.raises(KeyError):
        randomize_layers(model, ["merge.branches.5.conv2"], fresh)
