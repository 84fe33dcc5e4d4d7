"""Issue 13 on the command line: a user's own model class, a torchvision model, the user's own
images, and every bad input -> one stderr line, exit code 2, no traceback, nothing left behind.

The bad-input matrix runs each command as ``python -m MODULE`` does (``runpy`` with
``__name__ == "__main__"``) in a forked child process, so exit codes, stderr and files on disk
are the real ones while torch is imported once; a few cases also run in a fresh interpreter.
"""
import gzip
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nblib import save_checkpoint
from nblib.inspect.storage import load_features, save_features

REPO = Path(__file__).resolve().parents[1]

TINY_CNN = textwrap.dedent('''
    import os
    import time

    import torch
    from torch import nn


    class TinyCNN(nn.Module):
        def __init__(self, num_classes=10, in_channels=3):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, 8, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU()
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            return self.fc(self.pool(x).flatten(1))


    class SlowCNN(TinyCNN):
        """Announces its forward pass on stdout, then takes its time (for the interrupt test)."""

        def forward(self, x):
            print("forward started", flush=True)
            time.sleep(float(os.environ.get("SLOW_SECONDS", "30")))
            return super().forward(x)
''')


DRIVER = textwrap.dedent("""
    import json, os, runpy, sys, traceback
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot, pandas, PIL.Image, torch, torchvision  # imported once, before any fork
    import nblib.data, nblib.inspect  # packages only: runpy warns about pre-imported __main__ modules
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                out, err = open(req["out"], "w"), open(req["err"], "w")
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout, sys.stderr = out, err
                os.chdir(req["cwd"])
                os.environ.update(req["env"])
                sys.argv = [req["module"] or req["path"], *req["args"]]
                try:
                    if req["path"]:
                        runpy.run_path(req["path"], run_name="__main__")
                    else:
                        runpy.run_module(req["module"], run_name="__main__", alter_sys=True)
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except BaseException:
                    traceback.print_exc()  # what the interpreter does with an uncaught exception
                    code = 1
                out.flush()
                err.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), flush=True)
""")


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """``cli(module, args, cwd, env=None, run_path=None) -> (exit code, stdout, stderr)``.

    Runs ``python -m module args`` (or ``python run_path``) as a real child process: a driver
    interpreter imports torch once and forks one child per command, which runs the module with
    runpy exactly as ``python -m`` does (an uncaught exception prints its traceback, exit 1).
    """
    logs = tmp_path_factory.mktemp("logs")
    driver = subprocess.Popen([sys.executable, "-c", DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    count = [0]

    def run(module: str, args: list[str], cwd: Path, env: dict | None = None,
            run_path: Path | None = None) -> tuple[int, str, str]:
        count[0] += 1
        out, err = logs / f"{count[0]}.out", logs / f"{count[0]}.err"
        req = {"module": module, "path": str(run_path) if run_path else None, "args": list(args), "cwd": str(cwd),
               "env": env or {}, "out": str(out), "err": str(err)}
        driver.stdin.write(json.dumps(req) + "\n")
        driver.stdin.flush()
        rc = json.loads(driver.stdout.readline())["rc"]
        return rc, out.read_text(), err.read_text()

    yield run
    driver.stdin.close()
    driver.wait(timeout=60)


def assert_one_error(rc: int, err: str, needle: str = "") -> str:
    assert rc == 2, (rc, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0], (needle, lines[0])
    return lines[0]


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """A user's project folder: mymodel.py, weights, images of mixed sizes, tensor files."""
    root = tmp_path_factory.mktemp("project")
    (root / "mymodel.py").write_text(TINY_CNN)
    sys.path.insert(0, str(root))
    sys.modules.pop("mymodel", None)              # another test may have imported its own mymodel
    try:
        import mymodel
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("mymodel", None)
    torch.manual_seed(0)
    net = mymodel.TinyCNN()
    torch.save(net.state_dict(), root / "tiny.pt")
    (root / "images").mkdir()
    rng = np.random.RandomState(0)
    for i, (h, w) in enumerate([(20, 24), (30, 30), (16, 40)]):
        Image.fromarray((rng.rand(h, w, 3) * 255).astype(np.uint8)).save(root / "images" / f"img{i}.png")
    torch.save(torch.rand(2, 3, 3, 16, 16), root / "video.pt")  # (N, T, C, H, W)
    np.save(root / "batch.npy", rng.rand(4, 3, 12, 12).astype(np.float32))
    (root / "work").mkdir()
    sys.modules.pop("mymodel", None)
    return root, net


def test_user_class_list_layers_without_checkpoint_in_a_fresh_interpreter(user):
    root, _ = user
    res = subprocess.run([sys.executable, "-m", "nblib.inspect", "--model", "mymodel:TinyCNN", "--list-layers"],
                         cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 0, res.stderr
    assert [line.split()[0] for line in res.stdout.splitlines()] == ["conv1", "bn1", "relu", "pool", "fc"]


def test_user_class_on_own_images_matches_an_independent_forward(user, cli):
    root, net = user
    rc, out, err = cli("nblib.inspect", ["--model", "mymodel:TinyCNN", "--checkpoint", "tiny.pt", "--input",
                                             "images", "--size", "16", "--mean", "0.5", "--std", "0.25",
                                             "--batch-idx", "all", "--save-dir", "work/own"], root)
    assert rc == 0, err
    feats = load_features(root / "work/own/features_ball_mymodel.TinyCNN_16.pt")
    assert feats.metadata["model"] == "mymodel:TinyCNN" and "3 images" in feats.metadata["input"]
    # independent reference: PIL -> float -> torch resize -> normalise -> the same weights
    imgs = [torch.from_numpy(np.asarray(Image.open(root / "images" / f"img{i}.png"), dtype=np.float32) / 255)
            for i in range(3)]
    x = torch.stack([torch.nn.functional.interpolate(im.permute(2, 0, 1)[None], size=(16, 16), mode="bilinear",
                                                     antialias=True)[0] for im in imgs])
    x = (x - 0.5) / 0.25
    net.eval()
    with torch.no_grad():
        expected = torch.relu(net.bn1(net.conv1(x)))
    assert torch.allclose(feats.activations["relu"], expected, atol=1e-5)
    assert (root / "work/own/relu_ball.png").exists()
    rc, out, err = cli("nblib.analyze", ["work/own/features_ball_mymodel.TinyCNN_16.pt", "--save-dir", "work/ana"],
                           root)
    assert rc == 0, err
    stats = json.loads((root / "work/ana/stats.json").read_text())
    sparsity = (expected.abs() <= 1e-6).float().mean().item()
    assert abs(stats["layers"]["relu"]["sparsity"] - sparsity) < 1e-6


def test_sequences_and_npy_batches(user, cli):
    root, _ = user
    rc, _, err = cli("nblib.inspect", ["--model", "mymodel:TinyCNN", "--checkpoint", "tiny.pt", "--input",
                                           "batch.npy", "--batch-idx", "2", "--layers", "conv1",
                                           "--save-dir", "work/npy"], root)
    assert rc == 0, err
    assert load_features(root / "work/npy/features_b2_mymodel.TinyCNN_12.pt").activations["conv1"].shape == (1, 8, 12, 12)
    # a (N, T, C, H, W) file goes to the built-in per-frame ResNet as it is; --timestep picks the frame
    torch.manual_seed(0)
    from nblib.models import build_model
    model = build_model("resnet18").eval()
    save_checkpoint(root / "resnet.pt", model)
    rc, _, err = cli("nblib.inspect", ["--checkpoint", "resnet.pt", "--input", "video.pt", "--batch-idx", "1",
                                           "--timestep", "2", "--layers", "conv1", "--save-dir", "work/vid"], root)
    assert rc == 0, err
    got = load_features(root / "work/vid/features_b1_t2_resnet18_16.pt").activations["conv1"]
    with torch.no_grad():
        expected = model.conv1(torch.load(root / "video.pt")[1, 2][None])
    assert torch.allclose(got, expected, atol=1e-5)


def test_torchvision_resnet18_with_num_classes_and_a_1000_class_checkpoint(user, cli):
    from torchvision.models import resnet18

    root, _ = user
    torch.manual_seed(1)
    imagenet = resnet18()  # the stock 1000-class layout (random weights: nothing can be downloaded)
    torch.save(imagenet.state_dict(), root / "resnet18_1000.pt")
    base = ["--model", "torchvision.models:resnet18", "--model-kwargs", '{"num_classes": 10}',
            "--checkpoint", "resnet18_1000.pt", "--input", "images", "--size", "32", "--layers", "conv1", "fc"]
    rc, _, err = cli("nblib.inspect", base + ["--save-dir", "work/tv"], root)
    line = assert_one_error(rc, err, "fc.weight (1000, 512) vs model (10, 512)")
    assert "fc.bias" in line and "--no-strict" in line
    assert tree(root / "work/tv") == []
    rc, out, err = cli("nblib.inspect", base + ["--no-strict", "--save-dir", "work/tv"], root)
    assert rc == 0, err
    assert "left at initialisation" in out and "fc.weight" in out
    [path] = (root / "work/tv").glob("features_*.pt")
    got = load_features(path)
    assert got.activations["fc"].shape == (1, 10) and "fc.weight" in got.metadata["not_loaded"]
    x = torch.stack([torch.nn.functional.interpolate(
        torch.from_numpy(np.asarray(Image.open(root / "images/img0.png"), dtype=np.float32) / 255).permute(2, 0, 1)[None],
        size=(32, 32), mode="bilinear", antialias=True)[0]])
    with torch.no_grad():  # conv1 came from the 1000-class checkpoint
        assert torch.allclose(got.activations["conv1"], imagenet.conv1(x), atol=1e-5)


@pytest.fixture(scope="module")
def bad_files(user):
    """Broken and foreign files, made once."""
    root, net = user
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.pt").write_bytes(b"")
    (bad / "junk.pt").write_bytes(b"\x00garbage that is no zip")
    (bad / "folder").mkdir()
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), bad / "whole_model.pt")  # a whole-model pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"state_dict": {"w": Evil()}}, bad / "evil.pt")
    nan_state = {k: v.clone() for k, v in net.state_dict().items()}
    nan_state["conv1.weight"][0, 0, 0, 0] = float("nan")
    torch.save(nan_state, bad / "nan_weights.pt")
    torch.save(torch.full((1, 3, 8, 8), float("inf")), bad / "inf_input.pt")
    torch.save({"a": torch.rand(2)}, bad / "dict_input.pt")
    torch.save(torch.rand(3, 8, 8), bad / "chw.pt")
    np.save(bad / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (bad / "notes.json").write_text("{}")
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    save_features(bad / "features.pt", {"relu": torch.rand(2, 3, 4, 4)}, {})
    save_features(bad / "nan_features.pt", {"relu": torch.full((2, 3, 4, 4), float("nan"))}, {})
    (bad / "plainfile").write_text("x")
    return bad


CKPT = ["--model", "mymodel:TinyCNN", "--checkpoint"]
INSPECT_CASES = {
    "missing checkpoint": (CKPT + ["bad/nope.pt"], "checkpoint not found"),
    "empty checkpoint": (CKPT + ["bad/empty.pt"], "is empty"),
    "corrupt checkpoint": (CKPT + ["bad/junk.pt"], "corrupt or truncated"),
    "checkpoint is a folder": (CKPT + ["bad/folder"], "is a folder"),
    "whole-model pickle": (CKPT + ["bad/whole_model.pt"], "model.state_dict()"),
    "pickled code": (CKPT + ["bad/evil.pt"], "pickled code (posix.system)"),
    "feature file as checkpoint": (CKPT + ["bad/features.pt"], "nblib feature file, not a checkpoint"),
    "NaN weights": (CKPT + ["bad/nan_weights.pt", "--input", "images", "--size", "8"], "NaN/Inf values"),
    "missing input": (CKPT + ["tiny.pt", "--input", "bad/none.png"], "--input bad/none.png not found"),
    "empty input": (CKPT + ["tiny.pt", "--input", "bad/empty.pt"], "is empty"),
    "corrupt input": (CKPT + ["tiny.pt", "--input", "bad/junk.pt"], "corrupt or not a torch file"),
    "folder without images": (CKPT + ["tiny.pt", "--input", "bad/folder"], "holds no images"),
    "undecodable image": (CKPT + ["tiny.pt", "--input", "bad/broken.png"], "cannot decode image"),
    "Inf input": (CKPT + ["tiny.pt", "--input", "bad/inf_input.pt"], "NaN/Inf values"),
    "dict as input": (CKPT + ["tiny.pt", "--input", "bad/dict_input.pt"], "not a tensor"),
    "3-D tensor": (CKPT + ["tiny.pt", "--input", "bad/chw.pt"], "expected (N, C, H, W)"),
    "pickled npy": (CKPT + ["tiny.pt", "--input", "bad/objects.npy"], "pickled Python objects"),
    "other tool's file": (CKPT + ["tiny.pt", "--input", "bad/notes.json"], "unsupported file type .json"),
    "save-dir is a file": (CKPT + ["tiny.pt", "--save-dir", "bad/plainfile"], "is a file, not a folder"),
    "save-dir under a file": (CKPT + ["tiny.pt", "--save-dir", "bad/plainfile/out"], "is a file, not a folder"),
    "save-dir not writable": (CKPT + ["tiny.pt", "--save-dir", "/proc/nblib-out"], "--save-dir /proc/nblib-out"),
    "size zero": (CKPT + ["tiny.pt", "--size", "0"], "--size: 0 must be at least 1"),
    "negative batch size": (CKPT + ["tiny.pt", "--batch-size", "-2"], "--batch-size: -2 must be at least 1"),
    "std zero": (CKPT + ["tiny.pt", "--input", "images", "--size", "8", "--std", "0"], "must be positive"),
    "mean nan": (CKPT + ["tiny.pt", "--mean", "nan"], "not a finite number"),
    "batch-idx out of range": (CKPT + ["tiny.pt", "--batch-idx", "5"], "--batch-idx 5 out of range"),
    "timestep out of range": (CKPT + ["tiny.pt", "--timestep", "8"], "--timestep 8 out of range"),
    "device unavailable": (CKPT + ["tiny.pt", "--device", "cuda:99"], "--device cuda:99 is not available"),
    "wrong input shape": (CKPT + ["tiny.pt", "--no-strict", "--model-kwargs", '{"in_channels": 5}', "--input",
                                  "batch.npy"], "forward pass of mymodel.TinyCNN failed on input (4, 3, 12, 12)"),
    "unknown module": (["--model", "nomodule:Net", "--list-layers"], "no module named 'nomodule'"),
    "unknown attribute": (["--model", "mymodel:Nope", "--list-layers"], "has no attribute 'Nope'"),
    "bad kwargs JSON": (["--model", "mymodel:TinyCNN", "--model-kwargs", "{num_classes: 3}", "--list-layers"],
                        "not valid JSON"),
    "kwargs the class refuses": (["--model", "mymodel:TinyCNN", "--model-kwargs", '{"depth": 3}', "--list-layers"],
                                 "unexpected keyword argument 'depth'"),
    "unknown layer": (CKPT + ["tiny.pt", "--layers", "relu*x"], "did you mean"),
    "no checkpoint": (["--model", "mymodel:TinyCNN"], "give --checkpoint"),
    "unknown flag": (["--frobnicate"], "unrecognized arguments: --frobnicate"),
}


@pytest.mark.parametrize("case", list(INSPECT_CASES))
def test_inspect_bad_input(case, user, bad_files, cli):
    root, _ = user
    args, needle = INSPECT_CASES[case]
    before = tree(root / "bad")
    rc, _, err = cli("nblib.inspect", args + ([] if "--save-dir" in args else ["--save-dir", "work/out"]), root)
    assert_one_error(rc, err, needle)
    assert tree(root / "work/out") == [] and tree(root / "bad") == before
    assert not list((root / "work").glob(".*tmp")) and not list((root / "bad").glob(".*tmp"))


def test_analyze_bad_input(user, bad_files, cli):
    root, _ = user
    cases = [
        (["bad/nope.pt"], "feature file not found"),
        (["bad/empty.pt"], "is empty"),
        (["bad/junk.pt"], "cannot read feature file"),
        (["bad/folder"], "is a folder"),
        (["tiny.pt"], "not an nblib feature file"),
        (["bad/evil.pt"], "cannot read feature file"),
        (["bad/nan_features.pt"], "NaN/Inf values"),
        (["bad/features.pt", "--layers", "conv"], "unknown layer conv; available: relu"),
        (["bad/features.pt", "--eps", "-1"], "--eps -1.0 is negative"),
        (["bad/features.pt", "--save-dir", "bad/plainfile"], "is a file, not a folder"),
        (["bad/features.pt", "--bogus"], "unrecognized arguments"),
    ]
    for args, needle in cases:
        rc, _, err = cli("nblib.analyze", args + ([] if "--save-dir" in args else ["--save-dir", "work/ana_bad"]),
                             root)
        assert_one_error(rc, err, needle)
        assert tree(root / "work/ana_bad") == [], args


def test_interrupt_mid_write_leaves_nothing(user, monkeypatch, capsys):
    """KeyboardInterrupt while the PNGs are being written: exit 2, no folder, no staging folder."""
    import matplotlib.figure

    from nblib.inspect.__main__ import main

    root, _ = user
    calls = {"n": 0}
    real = matplotlib.figure.Figure.savefig

    def savefig(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    rc = main(["--model", "mymodel:TinyCNN", "--checkpoint", "tiny.pt", "--input", "images", "--size", "8",
               "--save-dir", "work/interrupted/deep"])
    assert rc == 2 and calls["n"] == 2
    assert "interrupted" in capsys.readouterr().err
    assert not (root / "work/interrupted").exists() and not list((root / "work").glob(".*tmp"))


def test_sigint_during_the_run_leaves_nothing(user):
    """A real SIGINT to a real process while it runs: one line, exit 2, no partial output."""
    root, _ = user
    proc = subprocess.Popen([sys.executable, "-m", "nblib.inspect", "--model", "mymodel:SlowCNN", "--checkpoint",
                             "tiny.pt", "--input", "images", "--size", "8", "--save-dir", "work/sigint"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), "SLOW_SECONDS": "60"})
    try:
        assert proc.stdout.readline().strip() == "forward started"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert_one_error(proc.returncode, err, "interrupted")
    assert not (root / "work/sigint").exists() and not list((root / "work").glob(".*tmp"))


def idx(array: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, array.dim()]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.to(torch.uint8).numpy().tobytes()


def test_data_bad_sources_leave_nothing_in_the_data_root(tmp_path, cli):
    src = tmp_path / "src"
    (src / "mnist").mkdir(parents=True)
    good = idx(torch.zeros(5, 28, 28))
    (src / "mnist" / "t10k-images-idx3-ubyte").write_bytes(good[: len(good) // 2])  # truncated
    (src / "mnist" / "t10k-labels-idx1-ubyte").write_bytes(idx(torch.arange(5)))
    (src / "bad.tar.gz").write_bytes(gzip.compress(b"not a tar archive at all" * 40)[:200])
    jpegs = src / "jpegs"
    for split in ("train", "test"):
        (jpegs / split / "bird").mkdir(parents=True)
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(jpegs / split / "bird" / "0.jpg")
    (jpegs / "train" / "bird" / "1.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken jpeg")
    with tarfile.open(src / "truncated.tar.gz", "w:gz") as tf:
        tf.add(jpegs, arcname=".")
    blob = (src / "truncated.tar.gz").read_bytes()
    (src / "truncated.tar.gz").write_bytes(blob[: len(blob) // 2])
    root = tmp_path / "data_root"
    root.mkdir()
    env = {"NBLIB_DATA": str(root), "NBLIB_QUICK": "0"}
    cases = [
        (["prepare", "mnist", "--from", str(src / "mnist")], "truncated"),
        (["prepare", "mnist", "--from", str(src / "nothing")], "does not exist"),
        (["prepare", "cifar10", "--from", str(src / "bad.tar.gz")], "neither a folder nor a readable tarball"),
        (["prepare", "cifar10", "--from", str(src / "truncated.tar.gz")], "corrupt or truncated"),
        (["prepare", "cifar10", "--from", str(jpegs)], "cannot decode image train/bird/1.jpg"),
        (["prepare", "cifar10"], "give --from PATH or --download"),
        (["prepare", "imagenet", "--from", "x"], "invalid choice: 'imagenet'"),
    ]
    for args, needle in cases:
        rc, _, err = cli("nblib.data", args, tmp_path, env)
        assert_one_error(rc, err, needle)
        assert tree(root) == [], (args, tree(root))
    rc, out, err = cli("nblib.data", ["status"], tmp_path, env)
    assert rc == 1 and "cifar10" in err and "MISSING" in out


def test_console_script_entry_points_share_the_behaviour(user, cli):
    """The console scripts (pyproject [project.scripts]) call the same main(): usage errors are one line, exit 2."""
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    argv = {"nblib-data": ["status", "--no-such-flag"], "nblib-inspect": ["--no-such-flag"],
            "nblib-analyze": ["f.pt", "--no-such-flag"], "nblib": ["doctor", "--model", "m:f", "--input", "x", "--report-dir", "d", "--no-such-flag"]}
    assert set(scripts) == set(argv)
    root, _ = user
    for name, target in scripts.items():
        module, func = target.split(":")
        script = root / "entry.py"
        script.write_text(f"import sys\nfrom {module} import {func}\nsys.exit({func}({argv[name]!r}))\n")
        rc, _, err = cli("", [], root, run_path=script)
        assert_one_error(rc, err, "unrecognized arguments: --no-such-flag")
        script.unlink()


def test_readme_walkthrough_uses_only_real_flags():
    """The README's "Inspect your own model" section exists and each flag it shows is one the parsers know."""
    import re

    from nblib.inspect.__main__ import build_parser

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Inspect your own model", 1)[1].split("\n## ", 1)[0]
    known = {opt for action in build_parser()._actions for opt in action.option_strings}
    shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", section))
    assert {"--model", "--model-kwargs", "--checkpoint", "--no-strict", "--input", "--size", "--mean", "--std",
            "--list-layers"} <= shown
    assert shown - {"--save-dir"} <= known | {"--save-dir"}, shown - known
    assert "torchvision.models:resnet18" in section and "mymodel:TinyCNN" in section
