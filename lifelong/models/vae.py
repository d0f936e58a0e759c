"""A fully connected variational autoencoder (Kingma & Welling 2014), the generator of generative
replay (Shin et al. 2017; van de Ven et al. 2020).

Encoder x -> hidden ReLU layers -> (mu, log sigma^2) of a diagonal Gaussian q(z|x); decoder
z -> hidden ReLU layers -> x. The loss is the negative ELBO per input dimension, as in van de Ven's
code::

    L(x) = [ rec(x, x^) + KL(q(z|x) || N(0, I)) ] / D,   z = mu + sigma * eps

with rec the summed binary cross-entropy ("bernoulli", inputs in [0, 1] such as MNIST) or half the
squared error ("gaussian", any real inputs), and D the number of input values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Args:
    input_shape: shape of one input, e.g. (C, H, W) or (D,).
    hidden: encoder layer widths (the decoder mirrors them).
    latent: dimension of z.
    likelihood: "bernoulli" or "gaussian" (see the module docstring).
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden: Sequence[int] = (400, 400),
        latent: int = 100,
        likelihood: str = "bernoulli",
    ) -> None:
        super().__init__()
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be bernoulli or gaussian, got {likelihood}")
        self.input_shape, self.latent, self.likelihood = tuple(input_shape), latent, likelihood
        dim = math.prod(input_shape)
        self.encoder = _mlp([dim, *hidden])
        self.mu = nn.Linear(hidden[-1], latent)
        self.logvar = nn.Linear(hidden[-1], latent)
        self.decoder = nn.Sequential(_mlp([latent, *reversed(hidden)]), nn.Linear(hidden[0], dim))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output (logits for bernoulli, means for gaussian), shaped like the inputs."""
        return self.decoder(z).view(len(z), *self.input_shape)

    def loss(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Mean negative ELBO per input dimension over the batch."""
        h = self.encoder(x.flatten(1))
        mu, logvar = self.mu(h), self.logvar(h)
        eps = torch.randn(mu.shape, generator=generator).to(mu.device)
        out = self.decode(mu + torch.exp(0.5 * logvar) * eps)
        if self.likelihood == "bernoulli":
            rec = F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            rec = 0.5 * (out - x) ** 2
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        return (rec.flatten(1).sum(1) + kl).mean() / x[0].numel()

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` inputs decoded from z ~ N(0, I) (probabilities for bernoulli)."""
        z = torch.randn(n, self.latent, generator=generator).to(self.mu.weight.device)
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out
