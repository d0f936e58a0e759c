"""A LoRA adapter under any strategy: the seed's "LoRA + EWC" and "LoRA + replay" as configurations.

Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models" (arXiv:2106.09685): a frozen
weight W0 becomes W0 + (alpha / r) B A, A (r x in) and B (out x r) trainable, B initialised to zero
(so training starts exactly at the pretrained model). :func:`add_lora` injects one such adapter
(``peft.inject_adapter_in_model``, in place: module names stay those of the network) into the chosen
layers, freezes every other parameter and keeps the output layer trainable (the continual-learning
head, whose units grow with the tasks). Whatever strategy then runs sees only the adapter and the
head as trainable parameters: ``naive`` is LoRA fine-tuning, ``ewc`` is LoRA + EWC (its Fisher and
penalty cover the trainable parameters only), ``er`` is LoRA + replay, and so on. This differs from
the ``lora`` strategy (one adapter per task, routed by task id) and ``lora-continual`` (a base trained
on task 0): here the base is the given (pretrained) network, never trained.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from lifelong.errors import ConfigError, require_package

ADAPTER = "default"


def default_targets(model: nn.Module, output_layer: str) -> list[str]:
    """peft's default layers for a Hugging Face model's type (BERT: ``query``, ``value``; GPT-2:
    ``c_attn``), else every ``nn.Linear`` / ``nn.Conv2d`` except the output layer."""
    encoder = getattr(model, "encoder", None) or getattr(model, "lm", None)
    model_type = getattr(getattr(encoder, "config", None), "model_type", None)
    if model_type is not None:
        from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as MAPPING

        if model_type in MAPPING:
            return list(MAPPING[model_type])
    return [
        name
        for name, m in model.named_modules()
        if isinstance(m, (nn.Linear, nn.Conv2d)) and name != output_layer
    ]


def add_lora(
    model: nn.Module,
    output_layer: str,
    *,
    rank: int,
    alpha: float,
    targets: Sequence[str] = (),
) -> nn.Module:
    """Inject a LoRA adapter of rank ``rank`` into ``targets`` (default :func:`default_targets`),
    freeze the rest except ``output_layer`` (``""``: a causal language model, whose output layer
    is its vocabulary and stays frozen); returns ``model`` (changed in place)."""
    peft = require_package("peft", "lora", "a LoRA adapter (--lora-rank)")
    chosen = list(targets) or default_targets(model, output_layer)
    if output_layer and output_layer in chosen:
        raise ConfigError(f"lora_targets: the output layer '{output_layer}' trains in full already")
    names = {name for name, _ in model.named_modules()}
    unknown = [t for t in chosen if t not in names and not any(n.endswith("." + t) for n in names)]
    if unknown or not chosen:
        raise ConfigError(
            f"lora_targets: no layer '{unknown[0] if unknown else ''}' in {type(model).__name__}"
        )
    config = peft.LoraConfig(
        r=rank,
        lora_alpha=alpha,  # type: ignore[arg-type]  # peft annotates int, uses alpha / r
        target_modules=chosen,
        lora_dropout=0.0,
    )
    peft.inject_adapter_in_model(config, model, adapter_name=ADAPTER)
    head = model.get_submodule(output_layer) if output_layer else None
    head_params = {id(p) for p in head.parameters()} if head is not None else set()
    for name, p in model.named_parameters():
        p.requires_grad_("lora_" in name or id(p) in head_params)
    return model


def freeze(model: nn.Module, modules: Sequence[str], output_layer: str) -> None:
    """Stop training the parameters of ``modules`` (dotted module names, each covering its
    sub-modules, e.g. ``encoder.embeddings`` or ``encoder.encoder.layer.0``)."""
    names = {name for name, _ in model.named_modules()}
    for module in modules:
        if module not in names:
            raise ConfigError(f"freeze: no module '{module}' in {type(model).__name__}")
        if output_layer == module or output_layer.startswith(module + "."):
            raise ConfigError(f"freeze: '{module}' holds the output layer '{output_layer}'")
        for p in model.get_submodule(module).parameters():
            p.requires_grad_(False)
