"""The written causes of the full-budget reproductions' gaps beyond the published error bars
(``CAUSES``, keyed by (protocol, setting, method)) and each protocol's findings paragraph
(``FINDINGS``), printed by ``bench/reproduce_report.py`` under docs/results.md's tables. Each cause
says what was run or read to find it out; ``{row:LABEL}`` or ``{row:PROTOCOL/SETTING/LABEL}``
cites a row's measured accuracy, ``{paper:NAME}`` what the paper's own code gave here, both filled
in from the result files when the report is built."""

from __future__ import annotations


# Causes shared by several rows of the Seq-MNIST table.
def _der_icarl_cause(size: int) -> str:
    """The measured cause of a Seq-MNIST iCaRL row far above the published number."""
    return (
        "the exemplar cast of the paper's code: Mammoth's iCaRL (`models/icarl.py`, `begin_task`, "
        "from commit 5dc82be on) appends the stored exemplars to the next task's MNIST training "
        "tensor as `examples.type(torch.uint8)`; MNIST exemplars are floats in [0, 1], so the "
        "network trains on nearly blank images (pixels 0 or 1/255) labelled as the old classes, "
        "while lifelong trains on the real exemplars. With that cast and nothing else changed "
        f"(`icarl-{size}-mammoth-cast`, its learning rate selected again) the same seeds give "
        f"{{row:icarl-{size}-mammoth-cast}}. At the first public commit, 7ab9db9, seq-mnist has "
        "no denormalisation transform and the same line raises an error, so the published runs "
        "came from code that is not public"
    )


def _der_convention_cause(row: str, selection: str) -> str:
    """The measured cause of a Seq-MNIST row below the published number: Mammoth's conventions,
    through the row's three diagnoses (``{row:...}`` cite their measured accuracy)."""
    return (
        "Mammoth's class-incremental conventions, measured with the values the paper's code lists "
        "as its selection (Mammoth `utils/best_args.py` at 7ab9db9, seq-mnist): "
        f"{{row:{row}-paper-args}} under lifelong's conventions (`{row}-paper-args`); "
        f"{{row:{row}-all-units}} trained on all ten output units from the first task on, as "
        f"Mammoth's training does (`class_units=all`; lifelong's default trains the units of the "
        f"classes seen so far; `{row}-all-units`); {{row:{row}-mammoth}} from the Xavier initial "
        f"weights with zero biases of Mammoth's MNIST MLP as well (`init=xavier`; "
        f"`{row}-mammoth`). {selection} ER is within on the same protocol without either option"
    )


# Written causes of the published-vs-measured gaps beyond the error bars, by (protocol, setting,
# method). Each one says what was run or read to find it out.
CAUSES: dict[tuple[str, str, str], str] = {
    ("agem-permuted", "domain", "naive"): (
        "mostly the learning rate: validation chose 0.01 (selection below); the paper's "
        "replication script runs VAN at 0.03 (`replicate_results.sh` at 5e84338), which on the "
        "same seeds gives {row:naive-paper-lr}; with the paper code's initial weights as well "
        "(truncated normal, s.d. 0.1, biases 0.1: `model/model.py` 24-55; `init=truncated-normal`) "
        "{row:naive-paper-init}. One difference was not run: the paper's code trains on "
        "TensorFlow's 55,000-image MNIST training split, not 60,000 images"
    ),
    ("agem-permuted", "domain", "agem"): (
        "lifelong's A-GEM lands above the paper because of two choices that are not the method's, "
        "the same two that brought naive within: the paper's script runs A-GEM at lr 0.1 "
        "(`replicate_results.sh` at 5e84338), where validation here chose 0.03 (selection "
        "below: 0.1 scores lower on validation too), and the paper's code starts from "
        "truncated-normal weights (s.d. 0.1, biases 0.1; `init=truncated-normal`). With both "
        "(`agem-paper-args`), the same seeds give {row:agem-paper-args}"
    ),
    ("agem-permuted", "domain", "gem"): (
        "the published number was not made by the paper's released code, and the run that made "
        "it is not published. The paper's plotting notebook (`plotting_code/agem_plots.ipynb`, "
        "added in 32d1144, December 2018; its bar charts hold GEM's published 0.895 ± 0.0048, "
        "F 0.06 and LCA_10 0.23) reads every other method's results from the files the paper's "
        "code writes, with accuracies along each task, but GEM's from a file named apart, "
        "`gem_mnist_5_runs.pickle`, holding only an accuracy matrix per run, and types GEM's "
        "learning curve for LCA in by hand. The constraint violations it plots for GEM on this "
        "protocol, 59,305 of 88,000 constrained steps (16 tasks of 5,500 batches; from 1,038 in "
        "the second task to 5,096 in the last), lie near those of GEM as Lopez-Paz & Ranzato "
        "define it, which projects the batch's gradient, as lifelong's does: "
        "{projections:gem-paper-data} of 88,000 on the same 55,000 images per task "
        "(`gem-paper-data`, {row:gem-paper-data}), {projections:gem} of 96,000 on 60,000; and "
        "far from those of the released code's GEM of that time (cdce810, August 2018, to "
        "77c5244, December 2018), which projects its "
        "gradient matrix's row of the current task, zero while that task trains (`model/model.py` "
        "1165-1176 at 77c5244^), so a violating step drops the batch: run that way "
        "(`gem-agem-code`, `bench/plugins/agem_code_gem.py`) {projections:gem-agem-code} of "
        "96,000 steps violate and GEM gives {row:gem-agem-code} (lr 0.03), "
        "{row:gem-agem-code-lr} (lr 0.1), {row:gem-agem-code-lr-low} (lr 0.01). What remains is "
        "the learning rate, which the paper does not give for GEM: with the code's initial "
        "weights (truncated normal, s.d. 0.1, biases 0.1), which brought naive and A-GEM within, "
        "lifelong's GEM gives {row:gem-paper-init} at lr 0.03 (validation's choice here), "
        "{row:gem-paper-lr} at lr 0.1 and {row:gem-paper-lr-low} at lr 0.01, a value of the "
        "paper's GEM grid (`cross_validate_lr_gem.sh`, 5370b6c^), one seed"
    ),
    ("agem-permuted", "domain", "gem-paper-init"): "see the `gem` row",
    ("agem-permuted", "domain", "gem-agem-code"): "see the `gem` row",
    ("agem-permuted", "domain", "gem-paper-lr"): "see the `gem` row",
    ("agem-permuted", "domain", "gem-agem-code-lr"): "see the `gem` row",
    ("agem-permuted", "domain", "gem-paper-data"): "see the `gem` row",
    ("agem-permuted", "domain", "gem-paper-lr-low"): "see the `gem` row",
    ("agem-permuted", "domain", "gem-agem-code-lr-low"): "see the `gem` row",
    ("agem-permuted", "domain", "agem-paper-args"): "see the `agem` row",
    ("agem-permuted", "domain", "naive-paper-lr"): "see the `naive` row",
    ("agem-permuted", "domain", "naive-paper-init"): "see the `naive` row",
    ("agem-permuted", "domain", "ewc-paper-args"): "see the `ewc` row",
    ("agem-permuted", "domain", "ewc-agem-code"): "see the `ewc` row",
    ("agem-permuted", "domain", "ewc"): (
        "the paper's EWC is not Kirkpatrick et al.'s: its code (5e84338, `model/model.py` "
        "1071-1107 and 1248-1257) runs RWalk's EWC++, a running average of squared mini-batch "
        "gradients (every 10 steps, decay 0.9) min-max normalised to [0, 1] at each task's end, "
        "with one anchor, at lambda 10 and lr 0.03. Run that way (`ewc-agem-code`, a plugin "
        "strategy) the same seeds give {row:ewc-agem-code}; lifelong's EWC at the paper's lr and "
        "lambda gives {row:ewc-paper-args}"
    ),
    ("vandeven-permuted", "domain", "naive"): (
        "not lifelong's: the paper's own code, run here as it stands at f0b1461 with its "
        "defaults for this protocol (`python bench/run_paper_code.py vandeven --repo PATH "
        "--seeds 0 1`: permMNIST, domain, fine-tuning), gives {paper:vandeven-permMNIST-domain}, "
        "at or above lifelong's level and past the published number too. Read against that code, "
        "lifelong matches "
        "its initial weights (uniform within 1/sqrt(fan-in), weights and biases, as PyTorch's "
        "default), its data (32x32 zero padding, the permutation over all 1024 pixels, pixels in "
        "[0, 1] without normalisation), one Adam (betas 0.9 / 0.999) for the whole stream, 5000 "
        "batches of 128 per task reshuffled at each pass, and evaluation on every task's full "
        "test set. Two differences are left, neither expected to move an MLP: the paper's code "
        "permutes the first task too for seeds above 0, and drops each pass's last short batch "
        "(lifelong trains on it, 96 images)"
    ),
    ("vandeven-permuted", "domain", "ewc"): (
        "the level of this protocol here, not EWC's Fisher or strength: with the paper's own "
        "lambda (500) and Fisher (the most probable label's log-likelihood over every training "
        "sample, the `ewc-paper-args` row) the same seeds give {row:ewc-paper-args}, lifelong's "
        "level again (seeds 0 / 1 / 2: 95.18 / 94.34 / 94.72 against 95.34 / 94.26 / 94.87 with "
        "strength 100 and the expectation over labels). The naive row is past its published "
        "number too, and there the paper's own code, run here, gives "
        "{paper:vandeven-permMNIST-domain}, also past it"
    ),
    ("vandeven-permuted", "domain", "ewc-paper-args"): (
        "the level of this protocol here, as for the `ewc` row: this is the paper's EWC (its "
        "lambda 500 and its Fisher), and on each seed it lands within 0.16 points of lifelong's "
        "selected EWC (seeds 0 / 1 / 2: 95.18 / 94.34 / 94.72 against 95.34 / 94.26 / 94.87), "
        "so the offset is shared by both estimates of the Fisher and both strengths. The naive "
        "row is past its published number by more, and there the paper's own code, run here, "
        "gives {paper:vandeven-permMNIST-domain}"
    ),
    ("vandeven-split", "task", "naive"): (
        "which digits share a task, not the code: on the paper's own digit orders for its seeds "
        "1-20 (`vandeven-code-orders` below, task-incremental: same network, optimizer and "
        "budget) lifelong's naive lands at {row:vandeven-code-orders/task/naive}. The "
        "pairing moves naive between 75.2 and 92.7% over those 20 orders (standard deviation "
        "5.3), and lifelong's seeds 0-4 draw harder ones than the mean"
    ),
    ("vandeven-split", "task", "ewc"): (
        "the Fisher estimate, not a bug (`vandeven-diagnosis` below): with the Fisher the paper's "
        "code computes (log-likelihood of the model's most probable label, every training sample "
        "of the task) at its lambda 1e7 (the value lifelong also selected), the same seeds give "
        "{row:vandeven-diagnosis/task/ewc-paper-fisher}; seeds 99.05 / 99.30 / 98.28. That Fisher is "
        "5x, 14x and 940x smaller in total than lifelong's default (the expectation over labels, "
        "`fisher_mode=exact`) on seeds 0-2; on seed 2, where it nearly vanishes, the first task "
        "ends at 93.8% instead of 98.2%"
    ),
    ("vandeven-split", "class", "lwf"): (
        "the published number matches the paper's code before a fix (`vandeven-diagnosis` below): "
        "until its commit 26f00db (May 2019) the distillation loss was averaged over the units "
        "instead of summed, a weight 1/(2t) smaller at task t; with that loss the paper's LwF "
        "lands within (`lwf-code-2019-04`). This row runs the paper's LwF as its code has computed "
        "it since (summed, weighted (1/t, 1 - 1/t)): the distillation, up to 16 times the current "
        "task's loss at task 5, keeps the first task and blocks the new classes (final accuracies "
        "99.9 / 5.0 / 0 / 0 / 0 on seed 0), and the average ends at naive's level. lifelong's own "
        "weighting (`lwf-constant`, strength selected on validation) is the row below"
    ),
    ("vandeven-split", "class", "mas"): (
        "the published number is Hsu et al.'s, measured under their protocol (4 epochs per task, "
        "digits in order); under it lifelong's MAS gives {row:hsu-split-class/class/mas} (`hsu-split-class` "
        "below). Here (2000 iterations per task, digit order drawn per seed) MAS, like naive "
        "(19.91), keeps only the last task: the 0.56-point gap is the protocol's, not the method's"
    ),
    ("vandeven-split", "class", "icarl"): (
        "the paper's code softens the old classes' targets with its distillation temperature, "
        "s(g*(x) / 2) (`encoder.py`, `binaryCE_distill`), where lifelong follows Rebuffi et al.'s "
        "s(g*(x)); with T = 2 (`--set temperature=2`) the same seeds land within (`icarl-t2` in "
        "`vandeven-diagnosis` below). Giving the exemplars the share of a batch they have in the "
        "paper's code (about 21 per 128) instead of 128 per step lowers the result "
        "(`icarl-exemplar-share`), so that difference is not the cause"
    ),
    ("vandeven-split", "class", "dgr+distill"): (
        "as for LwF: until its commit 26f00db (May 2019) the paper's code averaged the "
        "distillation over the units instead of summing it, a replay term 2t times weaker; with "
        "that loss (`average_units=True`, `dgr+distill-code-2019-04` in `vandeven-diagnosis` "
        "below) seeds 0-2 give {row:vandeven-diagnosis/class/dgr+distill-code-2019-04} (92.38 with the summed loss on the same "
        "seeds): lifelong's summed distillation (the paper code's since the fix) replays more "
        "strongly and ends higher"
    ),
    ("vandeven-split", "class", "joint"): (
        'a different upper bound, measured: the paper\'s "offline" baseline (`--replay=offline`, '
        "`train.py` 50-52 at ff0e03c) trains task after task, 2000 iterations each, on the union "
        "of the tasks seen so far; run as its code runs it (the `offline` row: `cumulative` with "
        "budget=fixed) it gives {row:offline} on the same seeds. "
        "lifelong's joint trains once on the union of all tasks with the whole budget "
        "(5 x 2000 iterations) and ends 0.25 higher"
    ),
    ("vandeven-split", "domain", "joint"): (
        "two parts, both measured. The digit pairings (see the naive row): on the paper's own "
        "orders for its 20 seeds (`vandeven-code-orders` below) the same joint gives "
        "{row:vandeven-code-orders/domain/joint}, "
        '0.18 of the 0.39. The rest is the bound itself: the paper\'s "offline" baseline '
        "(`--replay=offline`, `train.py` 50-52 at ff0e03c) trains task after task, 2000 "
        "iterations each, on the union of the tasks seen so far; run that way on the paper's "
        "orders (the `offline` row of `vandeven-code-orders`) it gives "
        "{row:vandeven-code-orders/domain/offline}, 0.16 below lifelong's joint, which has the whole budget "
        "(5 x 2000) on the union at once"
    ),
    ("vandeven-split", "domain", "offline"): (
        "the digit pairings of lifelong's seeds (see the naive row), which raise the bound too: "
        "on the paper's own digit orders for its 20 seeds the same `offline` row gives "
        "{row:vandeven-code-orders/domain/offline} (`vandeven-code-orders` below)"
    ),
    ("vandeven-code-orders", "domain", "joint"): (
        'a different upper bound, measured: the paper\'s "offline" baseline ends its stream '
        "with 2000 iterations on the union, lifelong's joint trains 5 x 2000 on it; run as the "
        "paper's code runs it on the same orders and seeds (the `offline` row below), the bound "
        "gives {row:offline}"
    ),
    ("vandeven-diagnosis", "domain", "lwf-code-2019-04"): (
        "the digit pairings of lifelong's seeds, as for the domain-incremental naive row of "
        "`vandeven-split`: on the paper's own digit orders for its 20 seeds "
        "(`vandeven-code-orders` below) the same LwF gives "
        "{row:vandeven-code-orders/domain/lwf-code-2019-04}"
    ),
    ("vandeven-split", "domain", "naive"): (
        "which digits are paired, not the code: on the paper's own digit orders for its seeds "
        "1-20 (`vandeven-code-orders` below: same network, optimizer and budget) lifelong's "
        "naive lands at {row:vandeven-code-orders/domain/naive}. In the "
        "domain-incremental setting the pairing decides much of the result (40.75-69.36 over "
        "those 20 orders, standard deviation 6.81), and the five orders lifelong's seeds 0-4 "
        "draw (torch's permutation, not numpy's) happen to be easy ones: 62.88-73.62. The same "
        "five orders given explicitly as `class_order` reproduce these runs exactly (checked on "
        "seeds 0 and 2), so the scenarios are built alike and only the draw differs"
    ),
    ("vandeven-split", "domain", "ewc"): (
        "the same five easy digit pairings as the naive row (see there): on the same seeds "
        "this row gains +1.51 ± 1.65 over naive (paired, 5 seeds), where the paper's row gains "
        "+4.74 over its naive, so the offset is the level the pairings set for the whole "
        "setting; on the paper's own orders (`vandeven-code-orders` below, 20 seeds) the same EWC "
        "lands at {row:vandeven-code-orders/domain/ewc}"
    ),
    ("vandeven-split", "domain", "online-ewc"): (
        "the same five easy digit pairings as the naive row (see there): on the same seeds "
        "this row gains +5.22 ± 1.85 over naive (paired, 5 seeds), where the paper's row gains "
        "+5.11 over its naive, so the offset is the level the pairings set for the whole "
        "setting; on the paper's own orders (`vandeven-code-orders` below) the same online EWC "
        "gives {row:vandeven-code-orders/domain/online-ewc} over the 20 seeds"
    ),
    ("vandeven-split", "domain", "si"): (
        "the same five easy digit pairings as the naive row (see there): on the same seeds "
        "this row gains +4.01 ± 1.36 over naive (paired, 5 seeds), where the paper's row gains "
        "+6.15 over its naive, so the offset is the level the pairings set for the whole "
        "setting; on the paper's own orders (`vandeven-code-orders` below, 20 seeds) the same SI "
        "lands at {row:vandeven-code-orders/domain/si}"
    ),
    ("vandeven-split", "domain", "dgr+distill"): (
        "the same five easy digit pairings as the naive row (see there), which raise the joint "
        "bound too (98.81 against the paper's 98.42): measured from each setting's joint bound, "
        "this row is 1.46 ± 0.24 below lifelong's joint (paired, 5 seeds) and the paper's 1.59 "
        "below its joint, so the method's distance to the bound is reproduced"
    ),
    ("vandeven-diagnosis", "class", "icarl-exemplar-share"): (
        "a diagnosis that rules a difference out: the paper's smaller exemplar share lowers "
        "lifelong's iCaRL further, so it does not explain the `vandeven-split` gap"
    ),
    ("vandeven-diagnosis", "class", "icarl-t2"): (
        "with the paper code's temperature the -1.35 of the `vandeven-split` row becomes +0.23, "
        "0.01 past the summed error bars on 3 seeds (the paper averages 20): the temperature "
        "accounts for the gap; the remaining 0.23 was not analysed"
    ),
    ("der-seq-mnist", "class", "er-5120"): (
        "lifelong's validation selection, measured: it chose lr 0.3 with 128 replayed examples "
        "per step (94.71% on validation), where the paper's code lists lr 0.1 with 10 "
        "(Mammoth `utils/best_args.py`, seq-mnist; 90.17% on lifelong's validation). Run with "
        "the paper's values (the `er-5120-paper-args` row), ER-5120 gives {row:er-5120-paper-args}"
    ),
    ("hsu-split-class", "class", "gem"): (
        "Hsu et al.'s GEM also rehearses its memory: in their code (GT-RIPL/Continual-Learning-"
        "Benchmark, `agents/exp_replay.py`) `GEM` subclasses `Naive_Rehearsal`, whose "
        "`learn_batch` adds the stored examples (replicated to a 1:1 ratio with the task's) to the "
        "training set before GEM's projected steps (their script runs `GEM_1100`; the variant "
        "without it, `GEM_orig_1100`, sets `skip_memory_concatenation`); lifelong's GEM is "
        "Lopez-Paz & Ranzato's, which "
        "trains on the current task only and uses the memory for the constraints (validation "
        "chose the largest margin tried, 8). Not run as GEM plus rehearsal here"
    ),
    ("hsu-split-class", "class", "er-4400"): (
        "Hsu et al. print no error bar for this row, so the test is against lifelong's own "
        "s.e.m. (0.10); their rehearsal replicates the memory to a whole-number ratio "
        "(12000 // 4400 = 2 copies: 8800 stored against 12000 new examples per epoch, 42%), "
        "lifelong joins 128 stored to every 128 new (50%); that difference was not run"
    ),
    ("vandeven-diagnosis", "task", "si-c50"): (
        "which digits share a task, as for `vandeven-split`'s task-incremental naive row: on the "
        "paper's own digit orders for its seeds 1-20 (`vandeven-code-orders` below) the same SI "
        "at c = 50 gives {row:vandeven-code-orders/task/si-c50}; three of those orders cost it "
        "2.6-3.8 points of forgetting (0.66 on average), where lifelong's seeds 0-2 cost it 0.04. "
        "Not the path integral: the paper code's, over the total loss (`si-c50-code`), gives "
        "{row:si-c50-code} on the same seeds"
    ),
    ("vandeven-diagnosis", "task", "si-c50-code"): (
        "see the `si-c50` row: the paper code's path integral leaves SI at lifelong's level on "
        "seeds 0-2; the paper's digit orders bring it within"
    ),
}
for _size in (200, 500, 5120):
    CAUSES[("der-seq-mnist", "class", f"icarl-{_size}")] = _der_icarl_cause(_size)
for _row in ("agem-200", "agem-500", "agem-5120", "der-200", "der-500", "derpp-200", "gem-200"):
    _memory = (
        "Not the memory: the paper-time `models/gem.py` (7ab9db9) also keeps buffer_size // 5 = "
        "40 random examples per task and takes every stored example of each past task for its "
        "constraint. "
        if _row.startswith("gem")
        else ""
    )
    CAUSES[("der-seq-mnist", "class", _row)] = _der_convention_cause(
        _row, _memory + "lifelong's own selection with these options was not run."
    )
    for _variant in ("paper-args", "all-units", "mammoth"):
        CAUSES[("der-seq-mnist", "class", f"{_row}-{_variant}")] = f"see the `{_row}` row"

# Conclusions of a protocol, printed under its table.
FINDINGS: dict[str, str] = {
    "der-seq-mnist": (
        "**What separates lifelong's Seq-MNIST rows from the published ones.** Mammoth, the "
        "paper's code (aimagelab/mammoth at 7ab9db9), differs from lifelong's defaults in two "
        "conventions, neither a method's: its class-incremental training computes the loss over "
        "all ten output units from the first task on (`utils/training.py`: no mask in training or "
        "evaluation), where lifelong trains the units of the classes seen so far; and its MNIST "
        "MLP starts from Xavier uniform weights with zero biases (`backbone/MNISTMLP.py`), "
        "lifelong's from PyTorch's defaults. Three diagnosis rows per gap run the values the "
        "paper's code lists as its selection (`utils/best_args.py`): `-paper-args` with lifelong's "
        "conventions, `-all-units` with `class_units=all`, `-mammoth` with `init=xavier` as well. "
        "Their verdicts show which convention closes which gap; lifelong's own grid selection was "
        "not repeated under Mammoth's conventions. iCaRL is the opposite case, far above the "
        "paper: Mammoth's iCaRL trains on its MNIST exemplars cast to uint8, nearly blank images "
        "(`bench/plugins/mammoth_icarl_cast.py` reproduces the cast as a plugin strategy, "
        "`--plugin`); its `-mammoth-cast` rows change only that."
    ),
    "vandeven-diagnosis": (
        "**Why lifelong's EWC beats the published Split MNIST task-incremental number, and why one "
        "SI seed is low.** What the paper's code does (GMvandeVen/continual-learning at ff0e03c, "
        "the 2019 version): EWC's Fisher is a mean over batches of one sample "
        "(`continual_learner.py` 88-96; `--fisher-n` unset, `main.py` 81, so every training "
        "sample of the task) of the squared gradient of the log-likelihood of the model's *most "
        "probable* label (lines 100-111; the true label only with `--emp-fi`), on the current "
        "task's output units only (line 99; `train.py` 296-305); penalty lambda/2 sum F "
        "(theta - theta*)^2, one term per task (lines 148-165, `encoder.py` 205-207); one Adam "
        "for the whole stream unless `--optimizer adam_reset` (`train.py` 92-96); the current "
        "task's units trained (multi-head on one 10-unit layer, `encoder.py` 98-99). Its "
        "Split MNIST task-incremental defaults (`param_values.py` at f0b1461, lines 13-16) are "
        "lambda 1e7 and SI c 50 (damping 0.1, `continual_learner.py` 24). lifelong matches all of "
        "this except the Fisher's label (the expectation over labels, on 1000 samples) and the "
        "selected SI c (1). (1) EWC: with the paper's Fisher the three seeds land within the "
        "published error bar; that Fisher is 5-940x smaller in total (`importance_sum`: 0.95 / "
        "1.69 / 0.008 against lifelong's 5.07 / 23.98 / 7.55 on seeds 0-2), because on a "
        "confident model the gradient at the predicted label vanishes (with two units, (1 - p)^2 "
        "against the expectation's p (1 - p)). On seed 2 (tasks 8/7, 1/5, ...) it nearly "
        "vanishes and the first task falls from 99.6% to 93.8% by the end (lifelong's default "
        "Fisher: 98.2%): the paper's estimate gives EWC a seed-dependent, sometimes near-zero "
        "penalty, which lowers the mean (98.88 against 99.23 on the same seeds) and widens the "
        "spread (98.28-99.30 against 98.86-99.48). (2) SI: lifelong's validation selection chose c = 1 on seed 0 (99.62 "
        "against 99.55 for c = 10 and 99.48 for c = 100: a near tie), and c = 1 is too weak for "
        "seed 2's first task (8/7), which ends at 74.0% (run average 94.0); the paper's c = 50 "
        "gives 99.45 / 99.28 / 99.52 on seeds 0-2 (c = 1: 98.91 / 99.07 / 94.00), 99.42 ± 0.07, "
        "every seed above the published 99.09 ± 0.15. The cause is which digits share a task, as "
        "for naive: on the paper's own digit orders for its seeds 1-20 (`vandeven-code-orders`) "
        "the same SI at c = 50 gives {row:vandeven-code-orders/task/si-c50}; three of those 20 "
        "orders cost it 2.6-3.8 points of forgetting (0.66 on average), where lifelong's seeds 0-2 "
        "cost it 0.04. Not the path integral: the paper's code accumulates it with the gradient "
        "of the total loss, surrogate included (`train.py` 245-250 and `encoder.py` 200-202 at "
        "f0b1461), where lifelong (as Zenke et al.) uses the task loss only; run that way "
        "(`si-c50-code`, `bench/plugins/vandeven_code_si.py`) seeds 0-2 give "
        "{row:vandeven-diagnosis/task/si-c50-code}, lifelong's level. "
        "(3) LwF, class-incremental: the paper's code distils one softmax over every class seen so "
        "far against the previous model's softmax over the old classes padded with zeros "
        "(`utils.loss_fn_kd`), with the loss weighted (1/t) CE + (1 - 1/t) T^2 KD (`encoder.py`, "
        "`rnt = 1/t`). lifelong distilled over the old classes' units alone, which preserves only "
        "their order among themselves and left LwF at naive's level (19.91 ± 0.02 on 5 seeds); it "
        "now distils as the paper does (LwF revision 2). Run that way the paper's LwF still ends "
        "at naive's level (`vandeven-split` class `lwf`), because its distillation is summed over "
        'the units, and that sum dates from commit 26f00db (May 2019, "summation over classes was '
        'omitted"); before it, `loss_fn_kd` took the mean over batch and units. With that mean '
        "(`average_units=True`) the same seeds land within the published number "
        "(`lwf-code-2019-04`): the published number matches the code as it was before the fix "
        "(the paper's first version is of April 2019), whose distillation was 2t times weaker. "
        "(4) iCaRL, class-incremental: the paper's code (`encoder.py`, `binaryCE_distill`) sets "
        "the old classes' binary targets to s(g*(x) / T) with its distillation temperature T = 2; "
        "Rebuffi et al. (and lifelong's default) use s(g*(x)). With T = 2 (`icarl-t2`) the seeds "
        "that gave 93.30 / 93.46 / 93.65 give 94.94 / 94.59 / 94.88, the published 94.57 ± 0.11 "
        "within reach; replaying the exemplars at the paper code's share of a batch "
        "(`icarl-exemplar-share`) instead lowers the result. (5) DGR with distillation: its "
        "replayed distillation goes through the same `loss_fn_kd` as LwF's, so before the fix it "
        "was averaged over the units too; with that average (`dgr+distill-code-2019-04`) seeds "
        "0-2 give 92.33 / 90.11 / 91.72 against 93.90 / 92.29 / 90.96 summed, within the "
        "published 91.79 ± 0.32."
    ),
    "vandeven-code-orders": (
        "**Why domain-incremental Split MNIST ran high in `vandeven-split`: the digit pairings "
        "that lifelong's seeds draw.** The paper's code draws which digits form which task with "
        "numpy, `np.random.seed(seed)` (`main.py` 169) then `np.random.permutation(10)` "
        "(`data.py` 190), for seeds 1, 2, ... (`_compare.py` 12-13, 154); in the domain setting "
        "the first digit of each task shares output unit 0 with the first digits of the "
        "others (`data.py` 205-207). `vandeven_code_digit_order` computes the same orders, "
        "and `class_order` gives them to lifelong's scenario. With them, naive fine-tuning and "
        "the paper's LwF (its code's distillation before the May 2019 fix, as in "
        "`vandeven-diagnosis`) land within the published numbers over the paper's 20 seeds. Which digits share an "
        "output unit matters a great deal in this setting, so five seeds estimate it "
        "poorly: lifelong's seeds 0-4 drew five easy pairings (68.09 ± 1.87, 2.8 standard "
        "errors of a five-order mean above the mean over the paper's 20). Reported beside, not "
        "in place of, the `vandeven-split` rows, which keep lifelong's draw."
    ),
    "agem-diagnosis": (
        "**Why A-GEM ends near naive fine-tuning here: the method in class-incremental learning "
        "with few steps per task, not a bug, the memory or (mainly) the optimizer.** "
        "(1) Not a bug: the same runs task-incrementally reach 98.9% (naive 93.6%), and A-GEM on "
        "the A-GEM paper's own Permuted MNIST protocol matched its published 89.1 (earlier "
        "reduced table below). (2) Not the memory: 4400 stored examples instead of 1000, or g_ref "
        "over every stored example instead of 256, change nothing (22.0, 22.4 vs 22.2). (3) The "
        "optimizer explains ~2 points: SGD lr 0.1 gives 24.0 vs Adam's 22.2 (naive: 19.4 vs "
        "19.6). (4) The number of (small) steps per task explains most: 4 epochs instead of 1 "
        "(375 instead of 94 steps per task) gives 38.7, and batch 10 with SGD (1200 steps per "
        "task, the DER paper's protocol) 41.2, near the 45.7 ± 4.3 / 46.7 ± 5.9 that Buzzega et "
        "al. publish for A-GEM in that protocol (buffers 200 / 500; see the DER table). "
        "Mechanism, measured with `bench/agem_probe.py` (loss on the memory batch before and "
        "after each step, tasks 2-3): A-GEM only removes the first-order increase of the average "
        "memory loss and never trains on the memory's labels, so when a step is projected its "
        "first-order effect on the memory is zero and what remains (curvature, and the examples "
        "the average hides) raises it: with SGD lr 0.1 the memory loss rose after 100% of the "
        "projected steps (+0.020 per step); with Adam, which rescales the projected gradient "
        "coordinate by coordinate (so the update no longer satisfies the constraint), after 46% "
        "(+0.027 per step). In class-incremental learning every step on the new classes pushes "
        "the old classes' logits down, so these small increases accumulate over a task; ER, "
        "which trains on the stored labels, ends at 89.9% with the same memory. This is "
        "documented, not fixed: it is how A-GEM behaves (its paper evaluates it "
        "task-incrementally and on Permuted MNIST, where it works)."
    ),
}
