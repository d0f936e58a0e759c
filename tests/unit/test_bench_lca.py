"""bench/lca.py: its runs are the reproduction's rows with LCA measured, and its table says what is
pending."""

from __future__ import annotations

import pytest

from bench import lca
from bench.protocols import PROTOCOLS
from bench.reproduce import Job


@pytest.mark.parametrize("label", list(lca.PUBLISHED))
def test_a_row_runs_the_reproduction_row_with_only_the_lca_settings_changed(label):
    protocol = PROTOCOLS["agem-permuted"]
    row = Job(protocol, "domain", protocol.method(label), (), 1, "test").config().to_dict()
    measured = lca.config_of(label, 1).to_dict()
    changed = {key for key in measured if measured[key] != row[key]}
    assert changed == {"lca_batches", "curve_samples", "out", "checkpoint_every"}
    assert measured["lca_batches"] == 10 and measured["curve_samples"] >= 10_000


def test_the_table_gives_each_rows_mean_and_spread_and_marks_missing_rows_pending():
    reproduced = lca.reproduction_job("naive-paper-init", 0).path
    assert reproduced.is_file()  # the reproduction's records are kept in git
    records = {
        "naive-paper-init": [
            {
                "learning_curve_area": area,
                "learning_curve": [0.1, 0.5],
                "average_accuracy": 0.5,
                "accuracy_matrix": [[0.5]],
                "config": {"seed": seed},
            }
            for seed, area in ((0, 0.25), (99, 0.27))
        ]
    }
    text = lca.markdown(records, [0, 1], ["--seeds", "0", "1"])
    assert "| naive-paper-init | VAN | 2/2 | 0.2600 ± 0.0141 | 0.2616 ± 0.0067 |" in text
    # seed 0's reproduction run (kept in git) has another matrix; seed 99 has none
    assert text.splitlines()[-2].endswith("| 0 of 1 seeds |")
    assert "| agem-paper-args | A-GEM | 0/2 | pending |" in text
    assert "`python bench/lca.py --seeds 0 1`" in text
