"""Text as tensors: WordNet glosses labelled by supersense, tokenized once into token tensors.

A text dataset is an :class:`ImageDataset` whose inputs are int64 token tensors of shape
(N, 2, L): row 0 holds the token ids, row 1 the attention mask (1 for a token, 0 for padding), padded
or truncated to ``max_length`` L. Text is tokenized once, when the dataset is loaded; from then on
it flows through the same tensor-first scenario path as images (batches are gathered by index, no
per-sample Python work), and models split each batch into ``input_ids`` and ``attention_mask``.

Tokenizers:

* a Hugging Face tokenizer (``transformers.AutoTokenizer``) from a local folder or hub name: used
  with a Hugging Face model (``--model hf:PATH``), whose vocabulary it matches;
* :class:`WordHashTokenizer`, an offline fallback with no dependency, for lifelong's own text model
  (``--model bow``): lower-cased words hashed (CRC-32) into a fixed number of ids.

The WordNet benchmark (``split-wordnet``): each example is one noun synset of WordNet 3.0, its text
``"<words>: <gloss>"`` (e.g. ``"lion, king of beasts, Panthera leo: large gregarious predatory
feline of Africa and India ..."``), its label the synset's lexicographer file (its *supersense*:
noun.animal, noun.food, ...). A balanced random subset (seeded) of ``train_per_class`` training and
``test_per_class`` test synsets is drawn per supersense, so a run fits a CPU.
"""

from __future__ import annotations

import functools
import gzip
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from lifelong.data.datasets import ImageDataset
from lifelong.data.wordnet import LEXICOGRAPHER_FILES, wordnet_files
from lifelong.errors import ConfigError, DataError, require_package

# Ten noun supersenses with at least 1,000 synsets each, in the order the tasks take them (two per
# task by default: animal/plant, food/artifact, person/location, body/substance, time/communication).
WORDNET_SUPERSENSES = (
    "noun.animal",
    "noun.plant",
    "noun.food",
    "noun.artifact",
    "noun.person",
    "noun.location",
    "noun.body",
    "noun.substance",
    "noun.time",
    "noun.communication",
)
DEFAULT_MAX_LENGTH = 32
DEFAULT_TRAIN_PER_CLASS = 100
DEFAULT_TEST_PER_CLASS = 20
_WORD = re.compile(r"\w+", re.UNICODE)


class Tokenizer(Protocol):
    """Turns texts into (ids, attention mask), each (N, max_length) int64."""

    @property
    def name(self) -> str: ...

    @property
    def vocab_size(self) -> int: ...

    def encode(
        self, texts: Sequence[str], max_length: int
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass(frozen=True)
class WordHashTokenizer:
    """Offline fallback: lower-cased ``\\w+`` words, each hashed (CRC-32) to an id in
    ``[2, vocab_size)``; id 0 is padding, id 1 starts every text (so no text is empty)."""

    vocab_size: int = 16384
    name: str = "word-hash"

    def encode(self, texts: Sequence[str], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.zeros(len(texts), max_length, dtype=torch.long)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())[: max_length - 1]
            hashed = [1] + [2 + zlib.crc32(w.encode()) % (self.vocab_size - 2) for w in words]
            ids[row, : len(hashed)] = torch.tensor(hashed)
        return ids, (ids != 0).long()


class HFTokenizer:
    """A Hugging Face tokenizer (``AutoTokenizer.from_pretrained(path)``): a local folder, or a hub
    name when online."""

    def __init__(self, path: str) -> None:
        transformers = require_package("transformers", "hf", "a Hugging Face tokenizer")
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        except (OSError, ValueError) as err:
            raise ConfigError(
                f"hf:{path}: cannot load its tokenizer ({_first_line(err)})"
            ) from None
        if self._tokenizer.pad_token is None and self._tokenizer.eos_token is not None:
            # causal LMs (GPT-2) have no padding token: pad with end-of-text, which the attention
            # mask (and the next-token loss) then ignore
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self.name = f"hf:{path}"
        self.vocab_size = int(len(self._tokenizer))

    def encode(self, texts: Sequence[str], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
        encoded = self._tokenizer(
            list(texts),
            padding="max_length",
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        return encoded["input_ids"].long(), encoded["attention_mask"].long()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# The built-in language model (``gpt-tiny``) predicts every token over its vocabulary: a smaller
# hashed vocabulary keeps its output layer (and a CPU step) small.
GPT_TINY_VOCAB = 4096


def make_tokenizer(model: str | None) -> Tokenizer:
    """The tokenizer for ``model``: a Hugging Face model's own (``hf:PATH``), else the fallback
    (4,096 ids for ``gpt-tiny``, 16,384 otherwise)."""
    if model is not None and model.startswith("hf:"):
        return HFTokenizer(model.removeprefix("hf:"))
    if model == "gpt-tiny":
        return WordHashTokenizer(vocab_size=GPT_TINY_VOCAB)
    return WordHashTokenizer()


def tokenize(texts: Sequence[str], tokenizer: Tokenizer, max_length: int) -> torch.Tensor:
    """Texts as one int64 tensor (N, 2, max_length): token ids and attention mask."""
    if max_length < 2:
        raise ConfigError(f"max_length must be >= 2, got {max_length}")
    ids, mask = tokenizer.encode(texts, max_length)
    return torch.stack([ids, mask], dim=1)


@dataclass(frozen=True)
class TextDataset(ImageDataset):
    """An :class:`ImageDataset` of token tensors (N, 2, L) (``scale`` 1: inputs are used as they
    are), with the tokenizer that made them.

    Attributes:
        vocab_size: number of token ids (embedding rows a model needs).
        tokenizer: the tokenizer's name (``word-hash`` or ``hf:PATH``).
        texts: (train texts, test texts), for inspection.
    """

    vocab_size: int = 0
    tokenizer: str = ""
    texts: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def is_tokens(dataset: object) -> bool:
    """Whether a dataset's inputs are token tensors (ids and attention mask), not features."""
    return isinstance(dataset, TextDataset)


# ------------------------------------------------------------------------------ WordNet
def read_synsets(path: Path) -> list[tuple[int, str]]:
    """(lexicographer file number, ``"<words>: <gloss>"``) of every synset in a ``data.*.gz`` file.

    A data line is ``offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] p_cnt ... |
    gloss`` (``wndb(5WN)``); ``w_cnt`` is hexadecimal; licence lines start with spaces.
    """
    synsets = []
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(" "):
                    continue
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                count = int(fields[3], 16)
                words = [w.replace("_", " ") for w in fields[4 : 4 + 2 * count : 2]]
                synsets.append((int(fields[1]), f"{', '.join(words)}: {gloss.strip()}"))
    except (OSError, EOFError, ValueError, IndexError) as err:
        raise DataError(f"{path}: not a WordNet data file ({err})") from None
    return synsets


@functools.lru_cache(maxsize=2)
def _noun_synsets(path: str) -> list[tuple[int, str]]:
    return read_synsets(Path(path))


def load_wordnet_text(
    root: str | Path | None = None,
    *,
    tokenizer: Tokenizer | None = None,
    supersenses: Sequence[str] = WORDNET_SUPERSENSES,
    train_per_class: int = DEFAULT_TRAIN_PER_CLASS,
    test_per_class: int = DEFAULT_TEST_PER_CLASS,
    max_length: int = DEFAULT_MAX_LENGTH,
    seed: int = 0,
) -> TextDataset:
    """WordNet noun synsets labelled by supersense, a balanced subset per class, tokenized.

    Args:
        root: data root holding ``wordnet/`` (see :func:`lifelong.data.wordnet.wordnet_files`).
        tokenizer: default :class:`WordHashTokenizer`.
        supersenses: the classes, in label order (names of lexicographer files ``noun.*``).
        train_per_class, test_per_class: synsets drawn per class (disjoint), seeded by ``seed``.
        max_length: tokens per text (padded or truncated).
    """
    if train_per_class < 1 or test_per_class < 1:
        raise ConfigError("train and test examples per class must be >= 1")
    numbers = {name: number for number, name in enumerate(LEXICOGRAPHER_FILES)}
    unknown = [s for s in supersenses if not s.startswith("noun.") or s not in numbers]
    if unknown:
        raise ConfigError(f"unknown noun supersense '{unknown[0]}'")
    files = wordnet_files(root, check=False)
    synsets = _noun_synsets(str(files.data["noun"]))
    by_file: dict[int, list[str]] = {}
    for number, text in synsets:
        by_file.setdefault(number, []).append(text)
    generator = torch.Generator().manual_seed(seed)
    splits: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    for label, name in enumerate(supersenses):
        texts = by_file.get(numbers[name], [])
        need = train_per_class + test_per_class
        if len(texts) < need:
            raise ConfigError(
                f"{name} has {len(texts)} synsets, fewer than the {need} asked for per class"
            )
        order = torch.randperm(len(texts), generator=generator)[:need].tolist()
        splits["train"] += [(texts[i], label) for i in order[:train_per_class]]
        splits["test"] += [(texts[i], label) for i in order[train_per_class:]]
    chosen: Tokenizer = tokenizer or WordHashTokenizer()
    train_texts = tuple(t for t, _ in splits["train"])
    test_texts = tuple(t for t, _ in splits["test"])
    return TextDataset(
        name="wordnet",
        train_x=tokenize(train_texts, chosen, max_length),
        train_y=torch.tensor([y for _, y in splits["train"]], dtype=torch.long),
        test_x=tokenize(test_texts, chosen, max_length),
        test_y=torch.tensor([y for _, y in splits["test"]], dtype=torch.long),
        num_classes=len(supersenses),
        scale=1.0,
        class_names=tuple(supersenses),
        vocab_size=chosen.vocab_size,
        tokenizer=chosen.name,
        texts=(train_texts, test_texts),
    )


# ------------------------------------------------------------------------------ users' files
def read_texts(
    path: str | Path,
    *,
    text: str = "text",
    label: str = "label",
    task: str | None = None,
    split: str | None = None,
) -> tuple[list[str], list[str] | list[int], list[int] | None]:
    """(texts, labels, task labels or None) by column name from a CSV file (with a header row), a
    JSON Lines file (``.jsonl``: one object per line) or a Hugging Face ``datasets`` folder
    (written by ``save_to_disk``). For :func:`lifelong.scenario_from_texts`.

    Labels of a CSV or JSON Lines file are kept as strings (class names); a ``datasets`` column
    keeps its type (integers, or strings), and a ``ClassLabel`` column gives its class names. Task
    labels must be integers 0 .. T-1.

    Args:
        split: a ``DatasetDict`` folder's split (default ``train``), e.g. ``test``.
    """
    import csv
    import json

    path = Path(path)
    if path.is_dir():
        return _read_dataset_folder(path, text, label, task, split)
    if split is not None:
        raise DataError(f"{path}: split= is for a datasets folder (save_to_disk), not a file")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            if path.suffix.lower() in (".jsonl", ".ndjson"):
                rows = [json.loads(line) for line in handle if line.strip()]
            else:
                rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path}: cannot read ({_first_line(err)})") from None
    if not rows:
        raise DataError(f"{path}: no rows")
    for n, row in enumerate(rows, start=1):
        missing = [c for c in (text, label, task) if c is not None and c not in row]
        if not isinstance(row, dict) or missing:
            raise DataError(f"{path}: row {n} has no column '{missing[0] if missing else text}'")
    try:
        tasks = None if task is None else [int(row[task]) for row in rows]
    except (TypeError, ValueError):
        raise DataError(f"{path}: column '{task}' must hold integer task labels") from None
    return [str(row[text]) for row in rows], [str(row[label]) for row in rows], tasks


def _read_dataset_folder(
    path: Path, text: str, label: str, task: str | None, split: str | None
) -> tuple[list[str], list[str] | list[int], list[int] | None]:
    """:func:`read_texts` of a ``datasets.save_to_disk`` folder (a Dataset or a DatasetDict)."""
    datasets = require_package("datasets", "datasets", f"reading {path} (a datasets folder)")
    try:
        data = datasets.load_from_disk(str(path))
    except (OSError, ValueError) as err:
        raise DataError(
            f"{path}: not a Hugging Face datasets folder written by save_to_disk "
            f"({_first_line(err)})"
        ) from None
    if isinstance(data, datasets.DatasetDict):
        name = split or "train"
        if name not in data:
            raise DataError(
                f"{path}: no split '{name}'; splits: {', '.join(data)} (choose one with split=)"
            )
        data = data[name]
    elif split is not None:
        raise DataError(f"{path}: a single dataset, without splits; drop split='{split}'")
    columns = data.column_names
    missing = [c for c in (text, label, task) if c is not None and c not in columns]
    if missing:
        raise DataError(f"{path}: no column '{missing[0]}'; columns: {', '.join(columns)}")
    if len(data) == 0:
        raise DataError(f"{path}: no rows")
    labels = list(data[label])
    feature = data.features[label]
    if isinstance(feature, datasets.ClassLabel):
        labels = [feature.int2str(int(v)) for v in labels]
    elif not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in labels):
        raise DataError(f"{path}: column '{label}' must hold class names or integer labels")
    try:
        tasks = None if task is None else [int(v) for v in data[task]]
    except (TypeError, ValueError):
        raise DataError(f"{path}: column '{task}' must hold integer task labels") from None
    return [str(v) for v in data[text]], labels, tasks
