"""Reusable layers: SoftMaxPool (differentiable disjunction) and the interpretable-network layers."""
from .softmaxpool import SoftMaxPool, softmax_pool

__all__ = ["SoftMaxPool", "softmax_pool"]
