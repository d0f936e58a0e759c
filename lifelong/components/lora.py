"""Low-rank adapters from the ``peft`` library, keyed by name (one per task, or one shared).

LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models") replaces a frozen weight
W0 by W0 + (alpha / r) * B A with A (r x in) and B (out x r) trainable and B initialised to zero, so
a new adapter starts exactly at the base model. ``peft`` wraps our ``nn.Module`` in a ``PeftModel``
whose LoRA layers hold several named adapters; ``set_adapter`` selects the active one (and makes
only its weights trainable), ``disable_adapter`` runs the frozen base alone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from lifelong.errors import ConfigError, LifelongError

if TYPE_CHECKING:
    from peft import PeftMixedModel


def adaptable_modules(model: nn.Module) -> list[str]:
    """Names of every ``nn.Linear`` and ``nn.Conv2d`` of ``model`` (the head included)."""
    return [name for name, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def lora_config(model: nn.Module, rank: int, alpha: float, targets: Sequence[str], dropout: float):
    """A ``peft.LoraConfig`` for ``model``; ``targets`` empty means every linear/conv layer."""
    from peft import LoraConfig

    configs = _peft_configs(model)
    if configs:  # already wrapped: every adapter has the first one's shape and layers
        return copy.deepcopy(next(iter(configs.values())))
    names = adaptable_modules(model)
    chosen = list(targets) or names
    unknown = [t for t in chosen if t not in names]
    if unknown:
        raise ConfigError(f"lora: unknown target layer '{unknown[0]}'; valid: {', '.join(names)}")
    # peft annotates lora_alpha as int, but only uses it in the float scale alpha / r
    return LoraConfig(
        r=rank,
        lora_alpha=alpha,  # type: ignore[arg-type]
        target_modules=chosen,
        lora_dropout=dropout,
    )


def add_adapter(model: nn.Module, name: str, config) -> nn.Module:  # type: ignore[no-untyped-def]
    """Add adapter ``name`` and make it the active, only trainable one. Wraps ``model`` on first use
    (freezing the base); returns the ``PeftModel``."""
    from peft import PeftModel, get_peft_model

    if isinstance(model, PeftModel):
        model.add_adapter(name, config)
        wrapped: PeftModel | PeftMixedModel = model
    else:
        wrapped = get_peft_model(model, config, adapter_name=name)
    wrapped.set_adapter(name)
    return wrapped


def adapter_names(model: nn.Module) -> list[str]:
    """Adapters held by ``model`` (none if it is not wrapped)."""
    return list(_peft_configs(model))


def _peft_configs(model: nn.Module) -> dict[str, Any]:
    """``peft``'s adapter name -> config of a wrapped ``model`` (empty if it is not wrapped)."""
    return getattr(model, "peft_config", {})


@contextmanager
def routed(model: nn.Module, name: str | None) -> Iterator[None]:
    """Run ``model`` with adapter ``name`` (``None``: the base alone), then restore the active one.

    Switching also moves ``requires_grad`` (peft's rule), so restoring keeps the trained adapter
    trainable after an evaluation that visited other tasks.
    """
    active = getattr(model, "active_adapter", None)
    if active is None or name == active:
        yield
    elif name is None:
        with model.disable_adapter():  # type: ignore[operator]
            yield
    else:
        model.set_adapter(name)  # type: ignore[operator]
        try:
            yield
        finally:
            model.set_adapter(active)  # type: ignore[operator]


def save_adapters(model: nn.Module, folder: str | Path) -> list[str]:
    """Write every adapter to ``folder/<name>/`` (peft's safetensors format); returns the names."""
    names = adapter_names(model)
    if names:
        model.save_pretrained(str(folder), selected_adapters=names)  # type: ignore[operator]
    return names


def load_adapters(model: nn.Module, folder: str | Path, names: Sequence[str]) -> None:
    """Load adapters ``names`` saved by :func:`save_adapters` into a wrapped model (same base)."""
    active = getattr(model, "active_adapter", None)
    if active is None:
        raise LifelongError(
            "load_adapters: the model has no adapters yet (train past task 0 first)"
        )
    for name in names:
        path = Path(folder) / name
        if not (path / "adapter_config.json").is_file():
            raise LifelongError(f"{path}: no saved adapter '{name}'")
        if name in adapter_names(model):
            model.delete_adapter(name)  # type: ignore[operator]
            if name == active:
                active = None
        model.load_adapter(str(path), adapter_name=name)  # type: ignore[operator]
    model.set_adapter(active or names[-1])  # type: ignore[operator]


def freeze_batchnorm(model: nn.Module) -> None:
    """Put BatchNorm layers in eval mode, so their running statistics (part of the base) stay
    fixed."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
