"""Hyperparameter defaults per benchmark family and setting, with their provenance.

A strategy's config class holds one default per hyperparameter, chosen on one stream (most on Split
MNIST, task-incremental). On another stream that value can be wrong: EWC's strength for Split MNIST
keeps a network on Permuted MNIST from learning new tasks. This table gives, for every strategy x
benchmark family x supported setting, either values chosen by lifelong's validation protocol (a grid,
a held-out split of the training data, the seeds and the command that chose them) or an explicit
``inherit`` entry that says the config class's default applies and why. ``lifelong run`` fills a
hyperparameter the user did not set from this table (the resolved values are saved in config.yaml),
and ``lifelong list strategies`` shows it. The values were chosen on offline streams at the
benchmark's default budget: online streams (``--online``) keep the config classes' defaults.

The table lives in ``tuned_defaults.json`` beside this module and is written by
``bench/defaults.py select`` (never by hand for a tuned entry), which records the strategy's
``revision`` with the values: after a fix that changes what the strategy computes, its entries
selected on the earlier code are marked as such until the selection runs again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifelong.core.strategy import Strategy

TABLE_FILE = Path(__file__).with_name("tuned_defaults.json")

# Built-in benchmarks by family: streams of one dataset family share tuned values. A language-modelling
# stream is a family of its own (scored by its loss, not accuracy).
FAMILIES: dict[str, str] = {
    "split-digits": "digits",
    "permuted-digits": "digits",
    "split-mnist": "mnist",
    "permuted-mnist": "mnist",
    "rotated-mnist": "mnist",
    "split-fashion-mnist": "mnist",
    "permuted-fashion-mnist": "mnist",
    "rotated-fashion-mnist": "mnist",
    "split-cifar10": "cifar",
    "split-cifar100": "cifar",
    "split-wordnet": "wordnet",
    "wordnet-domains": "wordnet-lm",
}
LANGUAGE_MODEL_FAMILIES = frozenset({"wordnet-lm"})  # next-token loss, domain setting only


def family_settings(family: str, strategy: type[Strategy]) -> frozenset[str]:
    """The settings the table holds an entry for, for ``strategy`` on ``family``: the strategy's
    settings, or for a language-modelling family the domain setting if it trains language models."""
    if family in LANGUAGE_MODEL_FAMILIES:
        able = "lm" in strategy.objectives and "domain" in strategy.settings
        return frozenset({"domain"}) if able else frozenset()
    return frozenset(strategy.settings)


@dataclass(frozen=True)
class DefaultEntry:
    """The defaults of one strategy on one family in one setting.

    Attributes:
        params: hyperparameter values (empty for an ``inherit`` entry).
        inherit: the config class's defaults apply (``reason`` says why).
        reason: why the class defaults apply, or a note on the selection.
        provenance: for tuned values: benchmark, grid, seeds, budget, metric and command.
    """

    params: dict[str, Any] = field(default_factory=dict)
    inherit: bool = False
    reason: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def selected_revision(self) -> int:
        """The strategy's ``revision`` when the values were selected (1 where unrecorded)."""
        return int(self.provenance.get("code_revision", 1))


def selected_under_older_code(strategy: type[Strategy], entry: DefaultEntry) -> bool:
    """Whether tuned values were selected before ``strategy``'s latest revision: their scores are
    of earlier code, and the selection command should be run again."""
    return not entry.inherit and entry.selected_revision != strategy.revision


@cache
def _load(path: Path) -> dict[str, dict[str, DefaultEntry]]:
    raw = json.loads(path.read_text())
    return {
        strategy: {key: DefaultEntry(**entry) for key, entry in entries.items()}
        for strategy, entries in raw.items()
    }


def table(path: Path | None = None) -> dict[str, dict[str, DefaultEntry]]:
    """Strategy name to ``"family/setting"`` to entry (from ``TABLE_FILE`` by default)."""
    return _load(path or TABLE_FILE)


def entry_for(strategy: str, benchmark: str, setting: str) -> DefaultEntry | None:
    """The entry of a built-in benchmark's family and setting (None: a user's scenario, a plugin
    strategy, or a combination the table does not hold)."""
    family = FAMILIES.get(benchmark)
    if family is None:
        return None
    return table().get(strategy, {}).get(f"{family}/{setting}")


def tuned_params(strategy: str, benchmark: str, setting: str) -> dict[str, Any]:
    """Tuned hyperparameter values for this stream ({} when the class defaults apply)."""
    entry = entry_for(strategy, benchmark, setting)
    return dict(entry.params) if entry is not None and not entry.inherit else {}
