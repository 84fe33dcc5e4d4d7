"""dSprites, generated: the original's factor grid rendered procedurally.

Factors (Matthey et al. 2017): shape (square, ellipse, heart) x 6 scales in [0.5, 1]
x 40 orientations in [0, 2 pi] x 32 x 32 positions in [0, 1], 64x64 binary images,
737,280 in all. The grid, the factor values and the image size match the original;
the pixels are drawn from implicit shapes (square, 2:1 ellipse, heart curve), so they
are not byte-identical to the original ``.npz``.

Also: factor correlation on demand (Gaussian copula with an exact target Pearson
correlation between the factors' uniform marginals) and moving-sprite videos
(B x T x 1 x 64 x 64) for temporal models.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
N_IMAGES = math.prod(FACTOR_SIZES)  # 737,280
# Sprite half-size in pixels at scale 1, and the span of sprite centres across the image.
HALF_SIZE = 10.0
CENTRE_LO, CENTRE_HI = 0.2 * IMAGE_SIZE, 0.8 * IMAGE_SIZE


def factor_values(indices: torch.Tensor) -> torch.Tensor:
    """Factor indices (N, 5) -> the original's factor values (N, 5) float.

    shape in {1, 2, 3}, scale linspace(0.5, 1, 6), orientation linspace(0, 2 pi, 40),
    pos_x / pos_y linspace(0, 1, 32).
    """
    idx = indices.float()
    return torch.stack(
        [
            idx[:, 0] + 1,
            0.5 + idx[:, 1] * (0.5 / 5),
            idx[:, 2] * (2 * math.pi / 39),
            idx[:, 3] / 31,
            idx[:, 4] / 31,
        ],
        dim=1,
    )


def grid_factors(start: int = 0, stop: int | None = None) -> torch.Tensor:
    """Rows ``start:stop`` of the full factor grid in the original's order (last factor fastest)."""
    stop = N_IMAGES if stop is None else stop
    flat = torch.arange(start, stop)
    cols = []
    for size in reversed(FACTOR_SIZES):
        cols.append(flat % size)
        flat = flat // size
    return torch.stack(cols[::-1], dim=1)  # (stop - start, 5)


def render(indices: torch.Tensor, device=None, chunk: int = 8192) -> torch.Tensor:
    """Draw sprites for factor indices.

    Args:
        indices: (N, 5) long factor indices (shape, scale, orientation, pos_x, pos_y).
        device: where to compute and return (defaults to the indices' device).
        chunk: images drawn at once (bounds memory: chunk x 64 x 64 floats).
    Returns:
        (N, 1, 64, 64) uint8 in {0, 1}.
    """
    device = indices.device if device is None else torch.device(device)
    indices = indices.to(device)
    coords = torch.arange(IMAGE_SIZE, device=device, dtype=torch.float32) + 0.5  # pixel centres
    out = torch.empty(indices.shape[0], 1, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8, device=device)
    for lo in range(0, indices.shape[0], chunk):
        block = indices[lo : lo + chunk]
        for shape_id, inside in enumerate(_SHAPE_TESTS):  # each image evaluates only its own shape
            rows = (block[:, 0] == shape_id).nonzero().squeeze(1)
            if rows.numel():
                u, v = _sprite_frame(factor_values(block[rows]), coords)
                out[lo + rows, 0] = inside(u, v).to(torch.uint8)
    return out


def _sprite_frame(val: torch.Tensor, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinates in each sprite's own rotated, scaled frame: two (n, 64, 64) tensors."""
    half = HALF_SIZE * val[:, 1, None, None]
    cx = CENTRE_LO + val[:, 3, None, None] * (CENTRE_HI - CENTRE_LO)
    cy = CENTRE_LO + val[:, 4, None, None] * (CENTRE_HI - CENTRE_LO)
    dx = coords[None, None, :] - cx  # (n, 1, 64): column offset
    dy = coords[None, :, None] - cy  # (n, 64, 1): row offset (down is +)
    cos, sin = val[:, 2, None, None].cos(), val[:, 2, None, None].sin()
    return (cos * dx + sin * dy) / half, (-sin * dx + cos * dy) / half


def _square(u, v):
    return torch.maximum(u.abs(), v.abs()) <= 1.0


def _ellipse(u, v):  # 2:1, long axis along the sprite's x
    return u * u + 4 * v * v <= 1.0


def _heart(u, v):  # the curve (x^2 + y^2 - 1)^3 <= x^2 y^3 with y pointing up
    x, y = 1.15 * u, 0.1 - 1.15 * v
    r = x * x + y * y - 1
    return r * r * r <= x * x * y * y * y


_SHAPE_TESTS = (_square, _ellipse, _heart)  # index = shape factor


def _normal_cdf(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def sample_factors(n: int, seed: int = 0, correlate: dict | None = None) -> torch.Tensor:
    """Draw ``n`` factor combinations, independent or with chosen pairs correlated.

    Args:
        n: number of samples.
        seed: RNG seed.
        correlate: ``{(parent, child): r}``, e.g. ``{("scale", "pos_x"): 0.2}``: the child's
            uniform marginal gets Pearson correlation ``r`` (in [-1, 1]) with the parent's
            (Gaussian copula with rho = 2 sin(pi r / 6)). Each factor is a child at most once.
    Returns:
        (n, 5) long factor indices.
    """
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, len(FACTOR_NAMES), generator=g)  # one latent Gaussian per factor
    children = set()
    for (parent, child), r in (correlate or {}).items():
        for name in (parent, child):
            if name not in FACTOR_NAMES:
                raise ValueError(f"unknown factor {name!r}; factors are {FACTOR_NAMES}")
        if child in children or parent == child:
            raise ValueError(f"factor {child!r} is a child twice or of itself in {correlate}")
        if not -1 <= r <= 1:
            raise ValueError(f"correlation must lie in [-1, 1], got {r}")
        children.add(child)
        rho = 2 * math.sin(math.pi * r / 6)  # Pearson of the uniforms = r exactly
        a, b = FACTOR_NAMES.index(parent), FACTOR_NAMES.index(child)
        z[:, b] = rho * z[:, a] + math.sqrt(max(1 - rho**2, 0.0)) * z[:, b]
    sizes = torch.tensor(FACTOR_SIZES)
    u = _normal_cdf(z)
    return torch.minimum((u * sizes).long(), sizes - 1)


@dataclass
class DSprites:
    """Generated dSprites images with their factors.

    Attributes:
        images: (N, 1, 64, 64) uint8 in {0, 1}, or (B, T, 1, 64, 64) for videos.
        factors: (N, 5) long indices, or (B, T, 5).
        values: the factor values (original units), same leading shape as factors.
    """

    images: torch.Tensor
    factors: torch.Tensor
    values: torch.Tensor
    source: str
    factor_names: tuple[str, ...] = FACTOR_NAMES
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device) -> "DSprites":
        return DSprites(self.images.to(device), self.factors.to(device), self.values.to(device),
                        self.source, self.factor_names, self.meta)

    def describe(self) -> str:
        shape = "x".join(map(str, self.images.shape))
        return f"{shape} {self.images.dtype}; {self.source}"


def load_dsprites(n: int | None = 20000, seed: int = 0, correlate: dict | None = None, device=None) -> DSprites:
    """Generate a dSprites sample.

    Args:
        n: number of images drawn at random from the factor grid; None renders the
            whole grid in the original order (737,280 images, 3 GB as uint8).
        seed: RNG seed of the draw.
        correlate: factor pairs to correlate, see :func:`sample_factors`.
        device: where to render and keep the tensors ("cuda" renders on the GPU).
    """
    if n is None:
        if correlate:
            raise ValueError("correlate applies to a random draw; give n")
        factors = grid_factors()
        how = "full factor grid (737,280)"
    else:
        factors = sample_factors(n, seed, correlate)
        how = f"{n:,} random draws (seed {seed}" + (f", correlated {correlate})" if correlate else ", independent factors)")
    if device is not None:
        factors = factors.to(device)
    images = render(factors)
    return DSprites(images, factors, factor_values(factors), f"dSprites generated procedurally: {how}")


def _reflect(x: torch.Tensor, size: int) -> torch.Tensor:
    """Fold positions onto [0, size-1], bouncing off both ends."""
    period = 2 * (size - 1)
    m = torch.remainder(x, period)
    return torch.where(m > size - 1, period - m, m)


def moving_sprites(
    n_videos: int,
    frames: int,
    seed: int = 0,
    max_speed: float = 2.0,
    max_spin: int = 2,
    device=None,
) -> DSprites:
    """Videos of one sprite drifting and spinning, bouncing off the borders.

    Args:
        n_videos: batch size B.
        frames: timesteps T.
        max_speed: largest speed per axis, in position-grid steps (of 32) per frame.
        max_spin: largest rotation per frame, in orientation steps (of 40).
    Returns:
        DSprites with images (B, T, 1, 64, 64) uint8 and factors (B, T, 5).
    """
    g = torch.Generator().manual_seed(seed)
    start = sample_factors(n_videos, seed)  # (B, 5)
    velocity = (torch.rand(n_videos, 2, generator=g) * 2 - 1) * max_speed  # (B, 2)
    spin = torch.randint(-max_spin, max_spin + 1, (n_videos,), generator=g)
    t = torch.arange(frames, dtype=torch.float32)  # (T,)
    factors = start[:, None, :].repeat(1, frames, 1)  # (B, T, 5)
    factors[..., 2] = torch.remainder(start[:, None, 2] + spin[:, None] * t.long(), FACTOR_SIZES[2])
    for k, axis in ((3, 0), (4, 1)):
        pos = start[:, None, k].float() + velocity[:, None, axis] * t  # (B, T)
        factors[..., k] = _reflect(pos, FACTOR_SIZES[k]).round().long()
    flat = factors.reshape(-1, 5)  # (B*T, 5)
    if device is not None:
        flat = flat.to(device)
    images = render(flat).view(n_videos, frames, 1, IMAGE_SIZE, IMAGE_SIZE)  # (B, T, 1, 64, 64)
    source = f"moving dSprites generated procedurally: {n_videos} videos x {frames} frames (seed {seed})"
    return DSprites(images, flat.view(n_videos, frames, 5), factor_values(flat).view(n_videos, frames, 5), source)


def status() -> str:
    return f"generated on demand (procedural): {N_IMAGES:,} images 64x64 binary, factors {dict(zip(FACTOR_NAMES, FACTOR_SIZES))}"
