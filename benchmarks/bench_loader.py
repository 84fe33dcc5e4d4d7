"""Device-resident batch loader against torch's DataLoader, images per second in one run.

Both produce the same epoch: CIFAR-sized uint8 images, normalised, random horizontal flip
and random translation by 2 pixels (reflect padding), shuffled, batch 512. The baseline is
the usual ``TensorDataset`` + torchvision transforms + ``DataLoader`` (copying each batch to
the device); the loader under test keeps everything on the device and augments the whole
epoch with a few tensor ops.

    python benchmarks/bench_loader.py [--device cuda] [--images 50000]
"""
from __future__ import annotations

import argparse

import torch
from torch.utils.data import DataLoader, Dataset

from nblib import describe_device, device
from nblib.data import CIFAR10_MEAN, CIFAR10_STD, GpuBatchLoader, LabelledImages
from nblib.timing import median_time


class AugmentedImages(Dataset):
    def __init__(self, images, labels):
        from torchvision import transforms as T

        self.images, self.labels = images, labels
        self.tf = T.Compose([
            T.ConvertImageDtype(torch.float32),
            T.Normalize(CIFAR10_MEAN, CIFAR10_STD),
            T.RandomCrop(32, padding=2, padding_mode="reflect"),
            T.RandomHorizontalFlip(),
        ])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.tf(self.images[i]), self.labels[i]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--images", type=int, default=10000)
    args = ap.parse_args()
    dev = device(args.device)
    print(f"device: {describe_device(dev)}; {args.images} images 3x32x32, batch 512\n")
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (args.images, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (args.images,), generator=g)

    baseline = DataLoader(AugmentedImages(images, labels), batch_size=512, shuffle=True, num_workers=0, drop_last=True)
    ours = GpuBatchLoader(LabelledImages(images, labels, "random"), 512, train=True, mean=CIFAR10_MEAN,
                          std=CIFAR10_STD, device=dev)

    def epoch(loader):
        total = 0.0
        for xb, _ in loader:
            total += xb.to(dev, non_blocking=True).sum()  # consume on the device, sync once at the end
        return float(total)

    t_base = median_time(lambda: epoch(baseline), dev, repeats=3, warmup=1)
    t_ours = median_time(lambda: epoch(ours), dev, repeats=3, warmup=1)
    n = len(ours) * 512
    print(f"DataLoader + transforms : {n / t_base:12,.0f} images/s")
    print(f"GpuBatchLoader          : {n / t_ours:12,.0f} images/s")
    print(f"speed-up                : {t_base / t_ours:.1f}x")


if __name__ == "__main__":
    main()
