"""Text models over token tensors: Hugging Face transformers and a small bag-of-words network.

Inputs are int64 tensors (B, 2, L) (row 0: token ids, row 1: attention mask; see
:mod:`lifelong.data.text`). Every model here has lifelong's model shape: ``features(x)`` (B, D) and
a linear ``head`` over all output units, so heads grow, mask and serve every setting exactly as for
the image models (task-incremental "multi-head" = masked logits).

* :class:`HFClassifier` (``--model hf:PATH_OR_NAME``): a ``transformers`` encoder
  (``AutoModel.from_pretrained``, a local folder or, online, a hub name) whose token states are
  mean-pooled over the attention mask (the pooling sentence-transformers' MiniLM was trained with),
  then lifelong's head. Attention runs with the "eager" implementation, which has no data-dependent
  Python branches on the mask.
* :class:`HFCausalLM`: a causal language model (``AutoModelForCausalLM``, or built from a config),
  whose :meth:`~HFCausalLM.token_loss` is the mean next-token cross-entropy per text, for streams of
  text domains evaluated by loss / perplexity (:func:`lifelong.metrics.loss_forgetting`).
* :func:`tiny_gpt` (``--model gpt-tiny``): a randomly initialised GPT-2 of a few layers, built from
  a ``transformers`` config over the scenario's vocabulary, for language-modelling streams on a CPU
  with no download (no pretrained causal LM ships offline).
* :class:`BagOfWords` (``--model bow``): the mean of the text's token embeddings, one hidden ReLU
  layer, a head; fast on a CPU, for tests and as an offline baseline.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lifelong.errors import ConfigError, require_package

HF_PREFIX = "hf:"


def split_tokens(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), each (B, L), from a token tensor (B, 2, L)."""
    if x.dim() != 3 or x.shape[1] != 2 or x.is_floating_point():
        raise ConfigError(
            f"text models need token inputs (batch, 2, length) of integers, got {tuple(x.shape)} "
            f"{x.dtype}: use a text benchmark (e.g. split-wordnet)"
        )
    return x[:, 0], x[:, 1]


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``states`` (B, L, D) over the positions where ``mask`` (B, L) is 1."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def _load(loader: Any, path: str, what: str) -> nn.Module:
    try:
        return loader.from_pretrained(path, attn_implementation="eager")
    except (OSError, ValueError) as err:
        text = str(err).strip().splitlines()
        raise ConfigError(
            f"hf:{path}: cannot load a {what} ({text[0] if text else type(err).__name__})"
        ) from None


class HFClassifier(nn.Module):
    """A Hugging Face encoder, mean pooling over the attention mask, and lifelong's linear head.

    The encoder's own pooler (BERT's dense layer over the [CLS] token), if any, is not used and
    is frozen, so it is neither trained nor counted as trainable.

    Args:
        encoder: a ``transformers`` model returning ``last_hidden_state``.
        num_outputs: output units of the scenario.
    """

    supports_vmap = False  # attention masks take data-dependent paths: per-sample loops instead

    def __init__(self, encoder: nn.Module, num_outputs: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.feature_dim = int(getattr(encoder, "config").hidden_size)  # noqa: B009 - a HF config
        self.head = nn.Linear(self.feature_dim, num_outputs)
        pooler = getattr(encoder, "pooler", None)
        if isinstance(pooler, nn.Module):  # BERT's [CLS] pooler: unused under mean pooling
            pooler.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, path: str, num_outputs: int) -> HFClassifier:
        """Load the encoder at ``path`` (a folder, or a hub name when online)."""
        transformers = require_package("transformers", "hf", "--model hf:...")
        return cls(_load(transformers.AutoModel, path, "transformers encoder"), num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        ids, mask = split_tokens(x)
        states = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        return mean_pool(states, mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class HFCausalLM(nn.Module):
    """A causal language model over token tensors; ``forward`` returns the next-token logits."""

    supports_vmap = False

    def __init__(self, lm: nn.Module) -> None:
        super().__init__()
        self.lm = lm

    @classmethod
    def from_pretrained(cls, path: str) -> HFCausalLM:
        transformers = require_package("transformers", "hf", "a causal language model")
        return cls(_load(transformers.AutoModelForCausalLM, path, "causal language model"))

    @classmethod
    def from_config(cls, config: Any) -> HFCausalLM:
        """A randomly initialised model of a ``transformers`` config (e.g. a tiny GPT-2)."""
        transformers = require_package("transformers", "hf", "a causal language model")
        return cls(
            transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager")
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids, mask = split_tokens(x)
        return self.lm(input_ids=ids, attention_mask=mask).logits

    def token_loss(self, x: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy of each text (B,), over its non-padding positions."""
        return next_token_losses(self.forward(x), x)


def next_token_losses(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Each text's mean next-token cross-entropy (B,) from a causal LM's ``logits`` (B, L, V) on
    token tensors ``x`` (B, 2, L): position t predicts token t + 1, padding excluded."""
    ids, mask = split_tokens(x)
    shifted = logits[:, :-1]
    targets, valid = ids[:, 1:], mask[:, 1:].to(shifted.dtype)
    losses = F.cross_entropy(shifted.transpose(1, 2), targets, reduction="none")
    return (losses * valid).sum(1) / valid.sum(1).clamp_min(1.0)


def tiny_gpt(vocab_size: int, max_length: int, *, width: int = 64, layers: int = 2) -> HFCausalLM:
    """A randomly initialised GPT-2 (Radford et al. 2019) with ``layers`` blocks of ``width``
    units and 2 attention heads, over ``vocab_size`` token ids and ``max_length`` positions
    (embeddings tied to the output layer, as in GPT-2; no dropout, so runs are deterministic)."""
    transformers = require_package("transformers", "hf", "the gpt-tiny model")
    config = transformers.GPT2Config(
        vocab_size=vocab_size,
        n_positions=max_length,
        n_embd=width,
        n_layer=layers,
        n_head=2,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
    )
    return HFCausalLM.from_config(config)


class BagOfWords(nn.Module):
    """Mean token embedding (padding excluded), one hidden ReLU layer, a linear head."""

    def __init__(self, vocab_size: int, num_outputs: int, dim: int = 64, hidden: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.body = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU())
        self.feature_dim = hidden
        self.head = nn.Linear(hidden, num_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        ids, mask = split_tokens(x)
        return self.body(mean_pool(self.embedding(ids), mask))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
