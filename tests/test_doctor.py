"""nblib.doctor: planted defects are found by name, a healthy model gets no critical finding, the
command line writes a self-contained report and fails on bad input with one line, exit 2."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

from nblib.doctor import EVIDENCE, Finding, doctor
from nblib.doctor.probe import block_names

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread is faster than two contended ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def blobs(n=384, d=16, classes=4, seed=0):
    """Separable Gaussian blobs: (x (n, d), y (n,))."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, d, generator=g) * 2
    y = torch.randint(0, classes, (n,), generator=g)
    return centres[y] + torch.randn(n, d, generator=g), y


class MLP(nn.Module):
    def __init__(self, d=16, h=64, classes=4):
        super().__init__()
        self.fc1, self.act1 = nn.Linear(d, h), nn.ReLU()
        self.fc2, self.act2 = nn.Linear(h, h), nn.ReLU()
        self.fc3 = nn.Linear(h, classes)

    def forward(self, x):
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


class TinyCNN(nn.Module):
    """conv-ReLU x2, a shared ReLU module (as SimpleCNN), fc1-ReLU-fc2."""

    def __init__(self, classes=4):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
        self.fc1, self.fc2 = nn.Linear(8 * 4 * 4, 32), nn.Linear(32, classes)
        self.act, self.pool = nn.ReLU(), nn.MaxPool2d(2)

    def forward(self, x):
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        return self.fc2(self.act(self.fc1(x.flatten(1))))


def images(n=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 16, 16, generator=g)


def train(model, x, y, steps=150, lr=0.05):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (64,), generator=g)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model.eval()


def test_negative_bias_kills_a_layer():
    torch.manual_seed(0)
    model = TinyCNN()
    with torch.no_grad():
        model.conv2.bias.fill_(-50.0)
    diag = doctor(model, images(), progress=False)
    dead = [f for f in diag.find("dead_units") if f.severity == "critical"]
    assert dead and "conv2" in dead[0].layer, diag.table
    assert dead[0].value == 1.0 and dead[0].source.notebook.endswith("00_feature_inspection.ipynb")
    assert diag.findings[0].severity == "critical"                       # sorted: critical first
    assert "act#1" in diag.layers.index                                   # the shared ReLU, one site per call
    assert not diag.find("collapsed_templates")


def test_filters_collapsed_onto_one_template():
    torch.manual_seed(0)
    model = TinyCNN()
    with torch.no_grad():
        model.conv2.weight.copy_(model.conv2.weight[:1].abs().expand_as(model.conv2.weight) + 0.01 * torch.rand(8, 8, 3, 3))
    found = doctor(model, images(32), progress=False).find("collapsed_templates")
    assert [f.layer for f in found] == ["conv2"] and found[0].severity == "info" and found[0].value < 0.1
    assert found[0].source.notebook.endswith("05_interpretable_gradients.ipynb")


def test_identical_consecutive_blocks():
    torch.manual_seed(0)

    class Copying(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1 = nn.Sequential(nn.Linear(16, 32), nn.ReLU())
            self.block2 = nn.Linear(32, 32, bias=False)   # an orthogonal map: the same representation
            self.block3 = nn.Sequential(nn.Linear(32, 32), nn.ReLU())
            self.head = nn.Linear(32, 4)
            with torch.no_grad():
                self.block2.weight.copy_(torch.linalg.qr(torch.randn(32, 32))[0])

        def forward(self, x):
            return self.head(self.block3(self.block2(self.block1(x))))

    x, _ = blobs()
    diag = doctor(Copying(), x, progress=False)
    assert block_names(Copying()) == ["block1", "block2", "block3", "head"]
    red = diag.find("redundant_layers")
    assert [f.layer for f in red] == ["block1 -> block2"], diag.cka
    assert red[0].value > 0.99 and red[0].severity == "warning"
    assert "adjacent_layers_not_redundant_*" in red[0].source.claims


class VAE(nn.Module):
    """Gaussian VAE returning a dict; ``detach=True`` plants the bug: the decoder reads z.detach()."""

    def __init__(self, d=16, z=4, detach=False):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 2 * z))
        self.dec = nn.Sequential(nn.Linear(z, 32), nn.ReLU(), nn.Linear(32, d))
        self.detach = detach

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        return {"recon": self.dec(z.detach() if self.detach else z), "mu": mu, "logvar": logvar}


def train_vae(model, x, steps=100):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        out = model(x)
        kl = 0.5 * (out["mu"].square() + out["logvar"].exp() - 1 - out["logvar"]).sum(1).mean()
        loss = (out["recon"] - x).square().sum(1).mean() + kl
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_vae_detached_latent_and_healthy_vae():
    torch.manual_seed(0)
    x, _ = blobs(256)
    broken = doctor(train_vae(VAE(detach=True), x), x, progress=False)
    assert {"detached_latent", "posterior_collapse"} <= broken.codes("critical"), broken.table
    collapse = broken.find("posterior_collapse")[0]
    assert "detach" in collapse.fixes[0] and collapse.source.notebook.endswith("02_csvae_mu_collapse.ipynb")
    assert int(broken.vae.active.sum()) == 0
    torch.manual_seed(0)
    healthy = doctor(train_vae(VAE(), x), x, progress=False)
    assert not healthy.codes("critical"), healthy.table
    assert int(healthy.vae.active.sum()) >= 2 and healthy.vae.recon_reaches_mu


def test_adam_at_a_high_learning_rate_kills_units():
    torch.manual_seed(0)
    x, y = blobs()
    model = MLP()
    diag = doctor(model, (x, y), train_steps=40, optimizer="adam", lr=0.1, progress=False)
    died = diag.find("units_died_in_training")
    assert any(f.severity == "critical" for f in died), diag.table
    assert any("fc" in f.layer for f in died)
    assert "adam_kills_more_fc1_units_than_sgd" in died[0].source.claims
    assert diag.find("zero_gradients")                                    # the dead units' weights
    assert diag.training.frame.shape[0] == 40 and model.training          # the original is untouched


def test_healthy_model_has_no_critical_finding():
    torch.manual_seed(0)
    x, y = blobs()
    model = train(MLP(), x, y)
    diag = doctor(model, (x, y), train_steps=30, optimizer="sgd", lr=0.01, progress=False)
    assert not diag.codes("critical"), diag.table
    torch.manual_seed(0)
    assert not doctor(TinyCNN(), images(), progress=False).codes("critical")


def test_finding_checks_and_report(tmp_path):
    with pytest.raises(ValueError):
        Finding("x", "fatal", "l", 1.0, 0.5, "m", "census")
    with pytest.raises(ValueError):
        Finding("x", "info", "l", 1.0, 0.5, "m", "nowhere")
    assert all(e.notebook.startswith("notebooks/") and (REPO / e.notebook).exists() for e in EVIDENCE.values())
    torch.manual_seed(0)
    model = TinyCNN()
    with torch.no_grad():
        model.fc1.bias.fill_(-100.0)
    out = doctor(model, images(64), progress=False, report_dir=tmp_path / "rep").meta
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "critical" in md and "| severity |" in md and "![activations](activations.png)" in md
    assert out["samples"] == 64
    import nblib

    assert nblib.doctor(nn.Sequential(nn.Linear(16, 8), nn.ReLU()), blobs(32)[0], progress=False).findings == []


MODULE = textwrap.dedent("""
    import torch
    from torch import nn

    class Broken(nn.Module):
        def __init__(self, bias=-100.0):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.relu = nn.ReLU()
            self.fc = nn.Linear(8, 4)
            with torch.no_grad():
                self.conv.bias.fill_(bias)

        def forward(self, x):
            return self.fc(self.relu(self.conv(x)).mean((2, 3)))

    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.relu, self.fc2 = nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10)

        def forward(self, x):
            return self.fc2(self.relu(self.fc1(x.flatten(1))))
""")


def run_cli(args, cwd, env_extra=None):
    env = {**os.environ, "PYTHONPATH": f"{cwd}{os.pathsep}{REPO}", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "nblib", "doctor", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_end_to_end_and_bad_input(tmp_path):
    (tmp_path / "mymodel.py").write_text(MODULE)
    torch.save(images(48), tmp_path / "x.pt")
    torch.save(torch.randint(0, 4, (48,)), tmp_path / "y.pt")
    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop("mymodel", None)
        import mymodel
        torch.save(mymodel.Broken(bias=-100.0).state_dict(), tmp_path / "weights.pt")   # the defect is in the weights
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("mymodel", None)
    r = run_cli(["--model", "mymodel:Broken", "--model-kwargs", '{"bias": 0.1}', "--checkpoint", "weights.pt",
                 "--input", "x.pt", "--labels", "y.pt",
                 "--train-steps", "5", "--report-dir", "rep", "--quiet"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "[critical] dead units at relu (after conv)" in r.stdout
    page = (tmp_path / "rep" / "report.html").read_text()
    assert '<img alt=\'activations\' src=\'data:image/png;base64,' in page.replace('"', "'")
    assert "src='http" not in page and "<script" not in page                    # self-contained
    assert "04_optimization_insight.ipynb" in page and (tmp_path / "rep" / "report.md").exists()


@pytest.mark.parametrize("bad, needle", [
    (["--input", "x.pt", "--model-kwargs", "{bad"], "not valid JSON"),
    (["--input", "x.pt", "--train-steps", "3"], "needs labels"),
    (["--input", "x.pt", "--labels", "x.pt", "--train-steps", "3"], "integer class indices"),
    (["--input", "x.pt", "--lr", "0"], "must be positive"),
    (["--input", "nope"], "not found"),
    (["--input", "x.pt", "--model", "mymodel:Nope"], "no attribute"),
    (["--input", "gray.pt"], "forward pass"),
])
def test_cli_bad_input_is_one_line(tmp_path, monkeypatch, capsys, bad, needle):
    from nblib.__main__ import main

    (tmp_path / "mymodel.py").write_text(MODULE)
    torch.save(images(8), tmp_path / "x.pt")
    torch.save(images(8)[:, :1], tmp_path / "gray.pt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["doctor", "--model", "mymodel:Broken", *bad, "--report-dir", "out", "--quiet"]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and needle in err, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


def test_cli_builtin_dataset(tmp_path, monkeypatch, capsys):
    from nblib.__main__ import main

    (tmp_path / "mymodel.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["doctor", "--model", "mymodel:Flat", "--input", "mnist", "--limit", "64", "--train-steps", "3",
                 "--optimizer", "sgd", "--lr", "0.01", "--report-dir", "rep", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0 and "over 64 inputs" in out, out
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "mnist test split, 64 images drawn at random" in md and "## Short training run" in md


def test_vae_protocols():
    from nblib.doctor.vae import is_gaussian_vae, split_outputs

    class TupleVAE(VAE):
        def forward(self, x):
            out = super().forward(x)
            return out["recon"], out["mu"], out["logvar"]

    class EncodeOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(16, 8)

        def encode(self, x):
            return self.enc(x).chunk(2, dim=1)

        def forward(self, x):
            return self.enc(x)

    x = blobs(32)[0]
    for model in (VAE(), TupleVAE(), EncodeOnly()):
        assert is_gaussian_vae(model, x)
        assert split_outputs(model.eval(), x)[1].shape == (32, 4)
    assert not is_gaussian_vae(MLP(), x)
    diag = doctor(TupleVAE(detach=True), x, progress=False)
    assert "detached_latent" in diag.codes("critical")


def test_unknown_command(capsys):
    from nblib.__main__ import main

    assert main(["nope"]) == 2 and "unknown command" in capsys.readouterr().err
    assert main(["--help"]) == 0 and "doctor" in capsys.readouterr().out
