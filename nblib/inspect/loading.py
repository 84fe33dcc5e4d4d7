"""Build the model to inspect: a registered name or any ``MODULE:CALLABLE``.

    model, spec = build_from_spec("mymodel:TinyCNN", {"num_classes": 10})
    model, spec = build_from_spec("torchvision.models:resnet18", {"num_classes": 10})
    model, spec = build_from_spec("resnet18")            # nblib.models.MODELS

``MODULE`` is imported from the working directory or ``PYTHONPATH``; ``CALLABLE`` (a class
or a factory, dotted for nested attributes) is called with the keyword arguments and must
return an ``nn.Module``. Every failure is an :class:`~nblib.cli.InputError` naming the fix.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass

from torch import nn

from ..cli import InputError


@dataclass(frozen=True)
class BuiltModel:
    """What :func:`build_from_spec` built.

    Attributes:
        name: file-name friendly name ("resnet18", "mymodel.TinyCNN").
        default_layers: the layers recorded when ``--layers`` is not given.
        sequence_input: the model takes (B, T, C, H, W) videos itself.
    """

    name: str
    default_layers: tuple[str, ...]
    sequence_input: bool


def parse_kwargs(text: str | None) -> dict:
    """``--model-kwargs`` JSON -> dict (an object); InputError otherwise."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--model-kwargs is not valid JSON ({exc.msg} at character {exc.pos}); "
                         "write an object such as '{\"num_classes\": 10}'") from None
    if not isinstance(value, dict):
        raise InputError(f"--model-kwargs must be a JSON object such as '{{\"num_classes\": 10}}', "
                         f"got a {type(value).__name__}")
    return value


def import_callable(spec: str):
    """``"package.module:Attr.sub"`` -> the object. The working directory is importable."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(f"--model {spec!r}: write MODULE:CALLABLE, e.g. mymodel:TinyCNN or torchvision.models:resnet18")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise InputError(f"--model {spec}: no module named {exc.name!r}; run from the folder holding "
                             f"{module_name.replace('.', '/')}.py or add that folder to PYTHONPATH") from None
        raise InputError(f"--model {spec}: importing {module_name} needs {exc.name!r}, which is not installed; "
                         f"pip install it") from None
    except Exception as exc:  # the user's module raised while importing
        raise InputError(f"--model {spec}: importing {module_name} raised {exc.__class__.__name__}: {exc}; "
                         "fix that module") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = [n for n in dir(module) if not n.startswith("_")]
            raise InputError(f"--model {spec}: {module_name} has no attribute {attr!r}; it has {', '.join(public[:20])}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"--model {spec}: {attr} is a {type(obj).__name__}, not a class or function")
    return obj


def build_from_spec(spec: str, kwargs: dict | None = None) -> tuple[nn.Module, BuiltModel]:
    """Build a model from a registered name or ``MODULE:CALLABLE`` with keyword arguments.

    Returns:
        (model in eval mode, :class:`BuiltModel`).
    """
    from ..models import MODELS

    kwargs = dict(kwargs or {})
    if ":" not in spec:
        if spec not in MODELS:
            raise InputError(f"unknown model {spec!r}: use one of {', '.join(sorted(MODELS))} "
                             "or MODULE:CALLABLE (e.g. mymodel:TinyCNN, torchvision.models:resnet18)")
        if kwargs:
            raise InputError(f"--model-kwargs does not apply to the built-in {spec!r}; "
                             "use MODULE:CALLABLE to pass arguments")
        entry = MODELS[spec]
        return entry.build().eval(), BuiltModel(spec, tuple(entry.default_layers), entry.sequence_input)
    factory = import_callable(spec)
    try:
        model = factory(**kwargs)
    except TypeError as exc:
        raise InputError(f"--model {spec} cannot be built with --model-kwargs {json.dumps(kwargs)}: {exc}; "
                         "fix the arguments") from None
    except Exception as exc:
        raise InputError(f"--model {spec}({json.dumps(kwargs)}) raised {exc.__class__.__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise InputError(f"--model {spec} returned a {type(model).__name__}, not a torch.nn.Module; "
                         "point it at the class or a function that returns the model")
    layers = tuple(name for name, _ in model.named_children())
    name = spec.replace(":", ".")
    return model.eval(), BuiltModel(name, layers, sequence_input=False)


def first_in_channels(model: nn.Module) -> int | None:
    """in_channels of the model's first convolution (None without one)."""
    conv = next((m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)), None)
    return conv.in_channels if conv is not None else None


__all__ = ["BuiltModel", "build_from_spec", "first_in_channels", "import_callable", "parse_kwargs"]
