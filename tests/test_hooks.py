"""The inspector: name resolution, capture semantics, gradients, storage, and hook cleanup."""
import pytest
import torch
from torch import nn

from nblib.inspect import Inspector, count_hooks, leaf_names, resolve_names, run_with_cache
from nblib.models import FrameResNet18


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.act = nn.ReLU(inplace=True)  # modifies bn's output in place
        self.block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = self.block(self.act(self.bn(self.conv(x))))
        h = self.act(h - 0.1)  # the same module called twice
        return self.head(h.mean((2, 3)))


@pytest.fixture
def model():
    torch.manual_seed(0)
    return Tiny()


def test_resolve_names_by_name_glob_type_predicate(model):
    assert resolve_names(model, "conv") == ["conv"]
    assert resolve_names(model, "block.*") == ["block.0", "block.1"]
    assert resolve_names(model, nn.ReLU) == ["act", "block.1"]
    assert resolve_names(model, lambda n: n.startswith("b")) == ["bn", "block", "block.0", "block.1"]
    assert resolve_names(model, ["head", nn.Conv2d]) == ["conv", "block.0", "head"]  # model order
    assert "" not in resolve_names(model)
    assert leaf_names(model) == ["conv", "bn", "act", "block.0", "block.1", "head"]


def test_unknown_layer_lists_close_and_available_names(model):
    with pytest.raises(KeyError) as err:
        resolve_names(model, ["conv", "blok"])
    msg = str(err.value)
    assert "blok" in msg and "did you mean block" in msg and "available: conv, bn" in msg
    with pytest.raises(KeyError, match="matches no module"):
        resolve_names(model, "layer*")


def test_capture_is_a_copy_untouched_by_later_inplace_ops(model):
    x = torch.randn(2, 1, 6, 6)
    _, cache = run_with_cache(model, x, names_filter=["bn", "act"])
    assert cache["bn"].min() < 0  # the in-place ReLU after bn did not overwrite the record
    assert cache["act"].min() >= 0
    assert "act:1" in cache  # second call of the same module
    assert count_hooks(model) == 0


def test_run_with_cache_output_matches_plain_forward(model):
    model.eval()
    x = torch.randn(3, 1, 6, 6)
    out, cache = run_with_cache(model, x, names_filter="conv")
    assert torch.equal(out, model(x))
    assert not out.requires_grad  # ran under no_grad
    assert torch.equal(cache["conv"], model.conv(x))


def test_backward_capture_matches_autograd(model):
    model.eval()
    x = torch.randn(2, 1, 6, 6)
    out, cache = run_with_cache(model, x, names_filter=["bn", "block.0"], backward=True,
                                loss_fn=lambda o: o[:, 1].sum())
    # reference: retain_grad on a non-inplace copy of the model
    ref = Tiny()
    ref.load_state_dict(model.state_dict())
    ref.eval()
    ref.act.inplace = False
    keep = {}

    def retain(key):
        def hook(module, inputs, output):  # returns None: the output is left as it is
            output.retain_grad()
            keep[key] = output
        return hook

    hooks = [ref.bn.register_forward_hook(retain("bn")), ref.block[0].register_forward_hook(retain("b0"))]
    ref(x)[:, 1].sum().backward()
    for h in hooks:
        h.remove()
    assert torch.allclose(cache.grads["bn"], keep["bn"].grad, atol=1e-6)
    assert torch.allclose(cache.grads["block.0"], keep["b0"].grad, atol=1e-6)
    assert count_hooks(model) == 0


def test_hooks_removed_when_forward_raises(model):
    with pytest.raises(RuntimeError):
        with Inspector(model, nn.Conv2d):
            assert count_hooks(model) == 3  # two module hooks + the root pre-hook
            model(torch.randn(1, 3, 6, 6))  # wrong channel count
    assert count_hooks(model) == 0


def test_hooks_removed_when_a_hook_raises(model, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")  # store="disk" cannot create folders under a file
    with pytest.raises(OSError):
        run_with_cache(model, torch.randn(1, 1, 6, 6), names_filter="conv", store="disk", save_dir=blocker)
    assert count_hooks(model) == 0


def test_hooks_removed_when_registration_fails_midway(model, monkeypatch):
    calls = {"n": 0}
    original = nn.Module.register_forward_hook

    def flaky(self, hook, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("registration failed")
        return original(self, hook, **kw)

    monkeypatch.setattr(nn.Module, "register_forward_hook", flaky)
    insp = Inspector(model, ["conv", "bn", "head"])
    with pytest.raises(RuntimeError, match="registration failed"):
        insp.attach()
    monkeypatch.undo()
    assert count_hooks(model) == 0 and not insp.attached


def test_unknown_name_registers_nothing(model):
    with pytest.raises(KeyError):
        Inspector(model, ["conv", "nope"])
    assert count_hooks(model) == 0


def test_detach_is_idempotent_and_reattach_forbidden(model):
    insp = Inspector(model, "conv").attach()
    with pytest.raises(RuntimeError, match="already attached"):
        insp.attach()
    insp.detach()
    insp.detach()
    assert count_hooks(model) == 0


def test_each_forward_replaces_unless_accumulating(model):
    x1, x2 = torch.randn(2, 1, 6, 6), torch.randn(3, 1, 6, 6)
    with Inspector(model, "conv") as insp:
        model(x1)
        model(x2)
    assert insp.cache["conv"].shape[0] == 3
    with Inspector(model, "conv", accumulate=True) as insp:
        model(x1)
        model(x2)
    assert insp.cache["conv"].shape[0] == 5


def test_store_cpu_and_disk(model, tmp_path):
    x = torch.randn(2, 1, 6, 6)
    _, on_cpu = run_with_cache(model, x, names_filter="conv", store="cpu")
    with Inspector(model, "conv", store="disk", save_dir=tmp_path, accumulate=True) as insp:
        model(x)
        model(x)
    files = sorted((tmp_path / "activations").glob("*.pt"))
    assert len(files) == 2
    assert torch.equal(insp.cache["conv"], torch.cat([on_cpu["conv"]] * 2))


def test_sequence_selection_picks_batch_and_timestep():
    torch.manual_seed(0)
    model = FrameResNet18().eval()
    video = torch.rand(2, 3, 1, 32, 32)  # (B, T, C, H, W)
    _, full = run_with_cache(model, video, names_filter="conv1")
    _, one = run_with_cache(model, video, names_filter="conv1", seq_len=3, batch_idx=1, timestep=2)
    assert full["conv1"].shape[0] == 6  # B*T frames
    assert one["conv1"].shape[0] == 1
    assert torch.allclose(one["conv1"][0], full["conv1"][1 * 3 + 2])
    _, frames = run_with_cache(model, video, names_filter="conv1", seq_len=3, timestep=[0, 2])
    assert torch.allclose(frames["conv1"], full["conv1"][[0, 2, 3, 5]])
    with pytest.raises(IndexError, match="timestep"):
        run_with_cache(model, video, names_filter="conv1", seq_len=3, timestep=3)
    assert count_hooks(model) == 0
    with pytest.raises(ValueError, match="seq_len"):
        Inspector(model, "conv1", timestep=0)


def test_missing_entry_message(model):
    _, cache = run_with_cache(model, torch.randn(1, 1, 6, 6), names_filter="conv")
    with pytest.raises(KeyError, match="recorded: conv"):
        cache["bn"]
