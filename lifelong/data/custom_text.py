"""Scenarios from your own texts: labelled texts for classification (``scenario_from_texts``) and
text domains for language modelling (``scenario_from_text_domains``). Texts are tokenized once into
token tensors (:mod:`lifelong.data.text`); tasks, settings and held-out data are cut as for tensors
(:func:`lifelong.data.custom.scenario_from_tensors`)::

    import lifelong
    scenario = lifelong.scenario_from_texts(texts, labels, num_tasks=2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lifelong.data.custom import ArrayLike, ScenarioOptions, scenario_from_tensors
from lifelong.data.datasets import ImageDataset
from lifelong.data.scenarios import Scenario
from lifelong.data.text import TextDataset, make_tokenizer, tokenize
from lifelong.errors import ConfigError, DataError

if TYPE_CHECKING:
    from typing_extensions import Unpack


def scenario_from_texts(
    texts: Sequence[str],
    labels: Sequence[Any] | ArrayLike,
    *,
    test: tuple[Sequence[str], Sequence[Any] | ArrayLike] | None = None,
    test_fraction: float | None = None,
    task_labels: ArrayLike | None = None,
    test_task_labels: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    model: str | None = None,
    max_length: int = 32,
    **options: Unpack[ScenarioOptions],
) -> Scenario:
    """A scenario over your own texts, tokenized once into token tensors (see
    :mod:`lifelong.data.text`); tasks, settings, test split and options as :func:`scenario_from_tensors`.

    Args:
        texts: one string per sample.
        labels: class labels 0 .. C-1, or class names (strings: classes in sorted order, which
            become ``class_names``).
        test: a separate test set ``(texts, labels)``; else ``test_fraction`` is held out.
        model: the model the text is for: ``hf:PATH`` tokenizes with that model's tokenizer; any
            other value (``bow``, None) with the offline word-hash tokenizer.
        max_length: tokens per text (padded or truncated).
    """
    if options.get("normalize") or options.get("padding") or options.get("transforms"):
        raise ConfigError("texts take no normalize, padding or transforms")
    tokenizer = make_tokenizer(model)
    train_labels, names = _text_labels(labels, class_names, "labels")
    tokens = tokenize(list(texts), tokenizer, max_length)
    positions = torch.arange(len(tokens), dtype=torch.float32)  # stand-ins, swapped below
    test_tokens = None
    held: tuple[ArrayLike, ArrayLike] | None = None
    if test is not None:
        test_labels, _ = _text_labels(test[1], names, "test labels")
        test_tokens = tokenize(list(test[0]), tokenizer, max_length)
        held = (torch.arange(len(test_tokens), dtype=torch.float32), test_labels)
    named: ScenarioOptions = {"name": "texts", **options}
    scenario = scenario_from_tensors(
        positions,
        train_labels,
        test=held,
        test_fraction=test_fraction,
        task_labels=task_labels,
        test_task_labels=test_task_labels,
        class_names=names,
        **named,
    )
    data = scenario.dataset
    assert isinstance(data, ImageDataset)
    train_rows = data.train_x[:, 0].long().cpu()
    test_rows = data.test_x[:, 0].long().cpu()
    text_data = TextDataset(
        name=data.name,
        train_x=tokens[train_rows],
        train_y=data.train_y.cpu(),
        test_x=(tokens if test_tokens is None else test_tokens)[test_rows],
        test_y=data.test_y.cpu(),
        num_classes=data.num_classes,
        scale=1.0,
        class_names=data.class_names,
        vocab_size=tokenizer.vocab_size,
        tokenizer=tokenizer.name,
    )
    return scenario._copy(dataset=text_data.to(scenario.device))


def scenario_from_text_domains(
    texts: Sequence[str],
    domains: Sequence[Any] | ArrayLike,
    *,
    test: tuple[Sequence[str], Sequence[Any] | ArrayLike] | None = None,
    test_fraction: float | None = None,
    domain_order: Sequence[str] | None = None,
    model: str | None = None,
    max_length: int = 32,
    **options: Unpack[ScenarioOptions],
) -> Scenario:
    """A language-modelling stream over your own texts: one task per text domain, learned with the
    next-token loss and evaluated by each domain's mean loss (a loss matrix, lower is better).

    Args:
        texts: one string per text.
        domains: each text's domain: names (domains in order of first appearance, or
            ``domain_order``) or integers 0 .. D-1 (in that order). E.g. from a CSV or JSON Lines
            file: ``texts, domains, _ = lifelong.read_texts(path, text="text", label="domain")``.
        test: a separate test set ``(texts, domains)``; else ``test_fraction`` (default 0.2) of each
            domain's texts is held out.
        model: the model the text is for: ``hf:PATH`` tokenizes with that model's tokenizer;
            ``gpt-tiny`` (or None) with the offline word-hash tokenizer.
        max_length: tokens per text (padded or truncated).
        **options: ``seed``, ``train_samples_per_task``, ``validation_fraction``,
            ``evaluate_on``, ``name``, ``device`` (see :class:`ScenarioOptions`).
    """
    refused = {"setting", "num_tasks", "classes_per_task", "task_classes", "class_order"}
    given = sorted(refused & set(options))
    if given:
        raise ConfigError(f"{given[0]}: text domains are the tasks, one per domain, in order")
    values = list(domains) if not isinstance(domains, (torch.Tensor, np.ndarray)) else []
    names: Sequence[str] | None = domain_order
    if names is None and values and isinstance(values[0], str):
        names = list(dict.fromkeys(values))
    named: ScenarioOptions = {
        "name": "text-domains",
        **options,
        "setting": "domain",
        "classes_per_task": 1,
    }
    scenario = scenario_from_texts(
        texts,
        domains,
        test=test,
        test_fraction=test_fraction,
        class_names=names,
        model="gpt-tiny" if model is None else model,
        max_length=max_length,
        **named,
    )
    return scenario._copy(objective="lm")


def _text_labels(
    labels: Sequence[Any] | ArrayLike, names: Sequence[str] | None, what: str
) -> tuple[torch.Tensor, tuple[str, ...] | None]:
    """Integer labels, and the class names when the labels are names (sorted, or ``names``)."""
    values = list(labels) if not isinstance(labels, (torch.Tensor, np.ndarray)) else None
    if values is None or not values or not isinstance(values[0], str):
        return torch.as_tensor(labels).long(), tuple(names) if names is not None else None
    known = tuple(names) if names is not None else tuple(sorted(set(values)))
    index = {name: i for i, name in enumerate(known)}
    unknown = [v for v in values if v not in index]
    if unknown:
        raise DataError(f"{what}: unknown class '{unknown[0]}'; known: {', '.join(known)}")
    return torch.tensor([index[v] for v in values]), known
