"""Parameter importance from per-sample gradients: the diagonal Fisher (EWC) and MAS sensitivities.

Both are means over samples of a per-sample gradient statistic, never a function of the batch-mean
gradient (whose square would underestimate the Fisher by a factor of up to the batch size):

* Fisher (Kirkpatrick et al. 2017; modes as in van de Ven 2025, "On the computation of the Fisher
  information in continual learning")::

      F_i = 1/N sum_n sum_c w_{n,c} (d log p_theta(c | x_n) / d theta_i)^2

  ``empirical``: w = 1 for the true label c = y_n only; ``sampled``: w = 1 for one label drawn from
  the model's predictive distribution p_theta(. | x_n); ``predicted``: w = 1 for the model's most
  probable label argmax_c p_theta(c | x_n) (what van de Ven & Tolias 2019's code computes; their
  current code's ``fisher_labels='pred'``); ``exact``: w_{n,c} = p_theta(c | x_n) for every output
  unit c (the expectation over labels, computed exactly). On a confident model ``predicted`` is
  far smaller than ``exact``: with two units and p = p_theta(predicted | x), the squared
  logit-gradient is 2 (1 - p)^2 against 2 p (1 - p), a factor p / (1 - p) apart.
* MAS (Aljundi et al. 2018)::

      Omega_i = 1/N sum_n | d ||f_theta(x_n)||_2^2 / d theta_i |

The log-likelihood uses the masked logits of the allowed output units, as in training (other units
get -1e9, so their probability is exactly 0 and they never contribute).

Two exact ways to get the per-sample gradients (``method``):

* ``vmap``: ``torch.func.vmap(torch.func.grad(...))`` over samples (in chunks of ``chunk_size``),
  for any model (conv, batch-norm in eval mode, ...); it materializes (chunk x parameters) floats.
* ``factored``: for models whose trainable parameters all belong to ``nn.Linear`` layers (MLPs), the
  per-sample gradient of a layer is the outer product delta_n a_n^T of the gradient at its output
  and its input (Goodfellow 2015), so sum_n w_n (delta_n a_n^T)^2 = (w * delta^2)^T (a^2) is one
  matrix product per layer: nothing of size (samples x parameters) is ever built. The deltas are
  per-sample gradients from one batched backward pass (samples are independent in eval mode).

* ``loop``: one forward pass per sample and one backward pass per weighted output unit (sharing the
  forward graph). Slow, but exact for any model, including those ``vmap`` cannot trace: Hugging
  Face transformers take data-dependent branches on the attention mask (their wrappers declare
  ``supports_vmap = False``). Its cost grows with N x (units with non-zero weight), so on a
  transformer prefer few ``fisher_samples`` or the ``sampled`` / ``empirical`` modes (one unit).

Language-modelling streams (a causal LM over token tensors, see :mod:`lifelong.models.hf`) have no
labels and one prediction per position: :func:`text_fisher` and :func:`text_output_sensitivity`
take text n's value to be its mean over positions (as the training loss is), i.e. the Fisher of
``log p_theta(text_n) / |text_n|``, with the tokens of the text (``empirical``, the gradient of the
language-modelling loss itself) or tokens drawn from the model's next-token distribution at every
position (``sampled``; ``exact``, an expectation over the whole vocabulary at every position, is
estimated this way too), and MAS's ``||f(x_n)||^2`` the mean over positions of the squared norm of
the next-token logits.

``auto`` picks ``factored`` when it applies, else ``vmap``, or ``loop`` for models that declare
``supports_vmap = False``; all give the same numbers (tested against each other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from lifelong.errors import ConfigError

if TYPE_CHECKING:
    from lifelong.core.strategy import Strategy
    from lifelong.data.scenarios import Task

FISHER_MODES = ("empirical", "sampled", "predicted", "exact")
METHODS = ("auto", "vmap", "factored", "loop")

# objective(logits (B, O), *extras (B, ...)) -> per-sample values (B, K)
Objective = Callable[..., torch.Tensor]


def trainable(model: nn.Module) -> dict[str, nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def _linear_owner(model: nn.Module) -> dict[str, nn.Linear] | None:
    """Map each trainable parameter name to its ``nn.Linear``; None if one is not in a Linear."""
    owners: dict[str, nn.Linear] = {}
    for module_name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            for pname, _ in module.named_parameters(recurse=False):
                owners[f"{module_name}.{pname}" if module_name else pname] = module
    names = trainable(model)
    return owners if all(n in owners for n in names) else None


def _vmap_sums(
    model: nn.Module,
    x: torch.Tensor,
    objective: Objective,
    extras: tuple[torch.Tensor, ...],
    weights: torch.Tensor,
    power: int,
    chunk_size: int,
) -> dict[str, torch.Tensor]:
    params = {n: p.detach() for n, p in trainable(model).items()}
    frozen = {n: t.detach() for n, t in model.named_parameters() if n not in params}
    buffers = dict(model.named_buffers())
    sums = {n: torch.zeros_like(p) for n, p in params.items()}

    def value(
        p: dict[str, torch.Tensor], xi: torch.Tensor, k: torch.Tensor, *ei: torch.Tensor
    ) -> torch.Tensor:
        logits = functional_call(model, (p, frozen, buffers), (xi.unsqueeze(0),))
        out = objective(logits, *(e.unsqueeze(0) for e in ei))
        return out.gather(1, k.view(1, 1)).sum()

    per_sample = vmap(grad(value), in_dims=(None, 0, None, *([0] * len(extras))))
    for start in range(0, len(x), chunk_size):
        sl = slice(start, start + chunk_size)
        for k in range(weights.shape[1]):
            w = weights[sl, k]
            if not bool(w.any()):
                continue
            grads = per_sample(
                params, x[sl], torch.tensor(k, device=x.device), *(e[sl] for e in extras)
            )
            for n, g in grads.items():
                g = g * g if power == 2 else g.abs()
                sums[n] += torch.tensordot(w, g, dims=1)
    return sums


def _loop_sums(
    model: nn.Module,
    x: torch.Tensor,
    objective: Objective,
    extras: tuple[torch.Tensor, ...],
    weights: torch.Tensor,
    power: int,
) -> dict[str, torch.Tensor]:
    params = trainable(model)
    sums = {n: torch.zeros_like(p) for n, p in params.items()}
    for i in range(len(x)):
        columns = torch.nonzero(weights[i]).flatten().tolist()
        if not columns:
            continue
        with torch.enable_grad():
            values = objective(model(x[i : i + 1]), *(e[i : i + 1] for e in extras))[0]
            picked = [values[k] for k in columns]  # indexed with grad on: they keep their graph
        for j, k in enumerate(columns):
            grads = torch.autograd.grad(
                picked[j],
                list(params.values()),
                retain_graph=j < len(columns) - 1,
                allow_unused=True,  # a parameter outside the graph has a zero gradient
            )
            for n, g in zip(params, grads, strict=True):
                if g is not None:
                    sums[n] += weights[i, k] * (g * g if power == 2 else g.abs())
    return sums


def _factored_sums(
    model: nn.Module,
    owners: dict[str, nn.Linear],
    x: torch.Tensor,
    objective: Objective,
    extras: tuple[torch.Tensor, ...],
    weights: torch.Tensor,
    power: int,
) -> dict[str, torch.Tensor] | None:
    names = trainable(model)
    layers = list(dict.fromkeys(owners[n] for n in names))  # frozen layers (a LoRA base) skipped
    inputs: dict[nn.Linear, list[torch.Tensor]] = {m: [] for m in layers}
    outputs: dict[nn.Linear, list[torch.Tensor]] = {m: [] for m in layers}

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        inputs[module].append(args[0].detach())  # type: ignore[index]
        outputs[module].append(out)  # type: ignore[index]

    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        with torch.enable_grad():
            values = objective(model(x), *extras)
    finally:
        for h in handles:
            h.remove()
    if any(len(inputs[m]) != 1 or inputs[m][0].dim() != 2 for m in layers):
        return None  # a layer reused or applied to sequences: per-sample factors do not apply
    zs = [outputs[m][0] for m in layers]
    a_pow = {m: inputs[m][0] ** 2 if power == 2 else inputs[m][0].abs() for m in layers}
    weight_sums = {m: torch.zeros_like(m.weight) for m in layers}
    bias_sums = {m: torch.zeros(m.out_features, device=x.device) for m in layers}
    columns = [k for k in range(weights.shape[1]) if bool(weights[:, k].any())]
    for i, k in enumerate(columns):
        with torch.enable_grad():
            total = values[:, k].sum()
        deltas = torch.autograd.grad(total, zs, retain_graph=i < len(columns) - 1)
        for m, d in zip(layers, deltas, strict=True):
            d = weights[:, k, None] * (d * d if power == 2 else d.abs())
            weight_sums[m] += d.T @ a_pow[m]
            bias_sums[m] += d.sum(0)
    return {
        n: (weight_sums if owners[n].weight is p else bias_sums)[owners[n]]
        for n, p in names.items()
    }


@torch.no_grad()
def per_sample_gradient_sums(
    model: nn.Module,
    x: torch.Tensor,
    objective: Objective,
    weights: torch.Tensor,
    *extras: torch.Tensor,
    power: int = 2,
    method: str = "auto",
    chunk_size: int = 64,
) -> dict[str, torch.Tensor]:
    """``S_i = sum_n sum_k weights[n, k] |d objective(model(x))[n, k] / d theta_i|^power``.

    Args:
        model: maps a batch to logits; run in eval mode here (restored afterwards).
        x: inputs (N, ...).
        objective: ``(logits, *extras) -> (N, K)`` per-sample values (row n: sample n only).
        weights: (N, K) weight of each value (columns that are all zero are skipped).
        extras: per-sample tensors (N, ...) passed to ``objective`` (masks, labels).
        power: 2 (squared gradients, Fisher) or 1 (absolute gradients, MAS).
        method: ``auto``, ``vmap``, ``factored`` or ``loop`` (see the module docstring).
        chunk_size: samples per vmap call (memory: chunk_size x parameters floats).

    Returns:
        One tensor per trainable parameter name, shaped like the parameter.
    """
    if power not in (1, 2):
        raise ValueError(f"power must be 1 or 2, got {power}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got '{method}'")
    was_training = model.training
    model.eval()
    try:
        if method == "loop":
            return _loop_sums(model, x, objective, extras, weights, power)
        owners = _linear_owner(model) if method != "vmap" else None
        if method == "factored" and owners is None:
            raise ConfigError(
                f"the factored method needs every trainable parameter of {type(model).__name__} "
                "in an nn.Linear; use the auto or vmap method"
            )
        if owners is not None:
            sums = _factored_sums(model, owners, x, objective, extras, weights, power)
            if sums is not None:
                return sums
            if method == "factored":
                raise ConfigError(
                    f"the factored method needs each nn.Linear of {type(model).__name__} applied "
                    "once to (N, features); use the auto or vmap method"
                )
        if method == "auto" and not getattr(model, "supports_vmap", True):
            return _loop_sums(model, x, objective, extras, weights, power)
        with torch.enable_grad():
            return _vmap_sums(model, x, objective, extras, weights, power, chunk_size)
    finally:
        model.train(was_training)


def _log_likelihood(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return F.log_softmax(logits.masked_fill(~mask, -1e9), dim=-1)


def diagonal_fisher(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    mode: str = "exact",
    *,
    generator: torch.Generator | None = None,
    method: str = "auto",
    chunk_size: int = 64,
) -> dict[str, torch.Tensor]:
    """The diagonal Fisher, a mean of per-sample squared gradients (see the module docstring).

    Args:
        model: the network (logits over all output units).
        x: N inputs; y: their true target units (used by ``empirical`` only).
        mask: (N, outputs) bool, the units each sample may predict (as in training).
        mode: ``empirical``, ``sampled``, ``predicted`` or ``exact``.
        generator: CPU generator for the labels drawn in ``sampled`` mode.
        method, chunk_size: see :func:`per_sample_gradient_sums`.
    """
    if mode not in FISHER_MODES:
        raise ValueError(f"Fisher mode must be one of {', '.join(FISHER_MODES)}, got '{mode}'")
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probs = _log_likelihood(model(x), mask).exp()
    model.train(was_training)
    objective: Objective
    extras: tuple[torch.Tensor, ...]
    if mode == "exact":
        objective, weights, extras = _log_likelihood, probs, (mask,)
    else:
        if mode == "empirical":
            labels = y
        elif mode == "predicted":
            labels = probs.argmax(1)
        else:
            labels = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(x.device)

        def label_log_likelihood(
            logits: torch.Tensor, m: torch.Tensor, t: torch.Tensor
        ) -> torch.Tensor:
            return _log_likelihood(logits, m).gather(1, t.view(-1, 1))

        objective = label_log_likelihood
        weights, extras = torch.ones(len(x), 1, device=x.device), (mask, labels)
    sums = per_sample_gradient_sums(
        model, x, objective, weights, *extras, power=2, method=method, chunk_size=chunk_size
    )
    return {n: s / len(x) for n, s in sums.items()}


def output_sensitivity(
    model: nn.Module,
    x: torch.Tensor,
    mask: torch.Tensor,
    *,
    method: str = "auto",
    chunk_size: int = 64,
) -> dict[str, torch.Tensor]:
    """MAS importance ``1/N sum_n |d ||f(x_n)||_2^2 / d theta|`` on the allowed units ``mask``."""

    def squared_norm(logits: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return (logits * m).pow(2).sum(1, keepdim=True)

    weights = torch.ones(len(x), 1, device=x.device)
    sums = per_sample_gradient_sums(
        model, x, squared_norm, weights, mask, power=1, method=method, chunk_size=chunk_size
    )
    return {n: s / len(x) for n, s in sums.items()}


def task_samples(strategy: Strategy, task: Task, samples: int) -> tuple[torch.Tensor, ...]:
    """Up to ``samples`` random training samples of ``task`` (drawn with the strategy's generator):
    inputs, targets and the (N, outputs) mask of the units they may predict in training."""
    scenario, context = strategy.context.scenario, strategy.context
    indices = task.train_indices
    chosen = torch.randperm(len(indices), generator=context.rng)[:samples].to(indices.device)
    ids = torch.full((len(chosen),), task.index, dtype=torch.long, device=indices.device)
    x, y = scenario.train_batch(ids, indices[chosen])
    mask = scenario.output_mask(ids if scenario.setting == "task" else None, context.tasks_seen)
    if mask is None:
        mask = torch.ones(len(x), scenario.num_outputs, dtype=torch.bool, device=x.device)
    return x, y, mask.expand(len(x), -1)


# ---------------------------------------------------------------------- language-modelling streams
def _text_log_likelihood(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """(B, 1): each text's mean log-probability of ``targets`` at positions 1.. (teacher forcing)."""
    log_probs = F.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = log_probs.gather(2, targets[:, 1:].unsqueeze(-1)).squeeze(-1)
    valid = mask[:, 1:].to(picked.dtype)
    return ((picked * valid).sum(1) / valid.sum(1).clamp_min(1.0)).unsqueeze(1)


@torch.no_grad()
def _model_tokens(
    model: nn.Module,
    x: torch.Tensor,
    generator: torch.Generator | None,
    chunk_size: int,
    *,
    most_probable: bool = False,
) -> torch.Tensor:
    """Token ids (N, L) whose position t >= 1 is drawn from the model's next-token distribution
    given the text's true tokens before t, or its most probable token (``most_probable``);
    position 0 keeps the text's first token."""
    was_training = model.training
    model.eval()
    tokens = x[:, 0].clone()
    for start in range(0, len(x), chunk_size):
        probs = F.softmax(model(x[start : start + chunk_size])[:, :-1].float(), dim=-1)
        if most_probable:
            chosen = probs.argmax(-1)
        else:
            flat = probs.reshape(-1, probs.shape[-1]).cpu()
            chosen = torch.multinomial(flat, 1, generator=generator).view(probs.shape[:2])
        tokens[start : start + chunk_size, 1:] = chosen.to(x.device)
    model.train(was_training)
    return tokens


def text_fisher(
    model: nn.Module,
    x: torch.Tensor,
    mode: str = "empirical",
    *,
    generator: torch.Generator | None = None,
    method: str = "auto",
    chunk_size: int = 16,
) -> dict[str, torch.Tensor]:
    """The diagonal Fisher of a causal language model over N texts ``x`` (N, 2, L):
    ``F_i = 1/N sum_n (d/d theta_i (1/|x_n|) sum_t log p_theta(w_{n,t} | x_{n,<t}))^2`` with
    ``w`` the texts' own tokens (``empirical``), tokens drawn from the model (``sampled``,
    ``exact``; see the module docstring) or its most probable tokens (``predicted``)."""
    if mode not in FISHER_MODES:
        raise ValueError(f"Fisher mode must be one of {', '.join(FISHER_MODES)}, got '{mode}'")
    mask = x[:, 1]
    if mode == "empirical":
        targets = x[:, 0]
    else:
        predicted = mode == "predicted"
        targets = _model_tokens(model, x, generator, chunk_size, most_probable=predicted)
    weights = torch.ones(len(x), 1, device=x.device)
    sums = per_sample_gradient_sums(
        model,
        x,
        _text_log_likelihood,
        weights,
        targets,
        mask,
        power=2,
        method=method,
        chunk_size=chunk_size,
    )
    return {n: s / len(x) for n, s in sums.items()}


def text_output_sensitivity(
    model: nn.Module, x: torch.Tensor, *, method: str = "auto", chunk_size: int = 16
) -> dict[str, torch.Tensor]:
    """MAS importance of a causal language model over N texts ``x`` (N, 2, L):
    ``1/N sum_n |d/d theta (1/|x_n|) sum_t ||f_theta(x_n)_t||_2^2|`` (f_t: next-token logits)."""

    def squared_norm(logits: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        valid = m.to(logits.dtype)
        per_position = logits.pow(2).sum(-1)
        return ((per_position * valid).sum(1) / valid.sum(1).clamp_min(1.0)).unsqueeze(1)

    weights = torch.ones(len(x), 1, device=x.device)
    sums = per_sample_gradient_sums(
        model, x, squared_norm, weights, x[:, 1], power=1, method=method, chunk_size=chunk_size
    )
    return {n: s / len(x) for n, s in sums.items()}
