"""Kept objects' methods and a kept model's parameters, read and loaded: the same code in the worker (for a
student's objects) and in the grader's own process (for the reference's and the mutants', which are ours)."""

from __future__ import annotations

from typing import Any

import torch


def no_method(owner: Any, name: str) -> str | None:
    """Why ``owner`` has no method ``name`` to call (its class defines none), or None."""
    if not callable(getattr(type(owner), name, None)):
        return f"{type(owner).__name__} has no method {name}"
    return None


def problem(model: Any) -> str | None:
    """Why ``model`` has no parameters to read or load, or None."""
    if not isinstance(model, torch.nn.Module):
        return f"{type(model).__name__} is not a torch.nn.Module, so it has no parameters"
    return None


def read(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``{name: tensor}`` as ``named_parameters()`` gives them, detached copies."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def load(model: torch.nn.Module, values: dict[str, Any]) -> str | None:
    """Copy ``values`` into ``model``'s parameters of the same names; what differs (names, shapes), or None."""
    named = dict(model.named_parameters())
    wrong = sorted(set(named) ^ set(values)) or [
        name
        for name, p in named.items()
        if not isinstance(values[name], torch.Tensor) or tuple(p.shape) != tuple(values[name].shape)
    ]
    if wrong:
        shapes = ", ".join(f"{name} {tuple(p.shape)}" for name, p in named.items())
        expected = ", ".join(f"{name} {tuple(getattr(v, 'shape', ()))}" for name, v in values.items())
        return (
            f"{type(model).__name__}'s parameters are {shapes or 'none'}, the contract's are {expected} "
            f"(first difference: {wrong[0][:80]})"
        )
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(values[name])
    return None
