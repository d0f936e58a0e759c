"""`lifelong demo` end to end on a reduced budget: forgetting shown, metrics printed, methods and
LoRA vs full fine-tuning compared, the notebook's figures in a self-contained report."""

from __future__ import annotations

from lifelong.cli import main


def test_demo_reproduces_the_notebook_offline(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(
        [
            "demo",
            "--iterations",
            "40",
            "--seeds",
            "0",
            "--jobs",
            "1",
            "--threads",
            "1",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "sequential training forgets" in printed
    assert "Accuracy matrix" in printed and "average forgetting" in printed
    assert "methods against forgetting" in printed
    for method in ("EWC", "SI", "Experience replay"):
        assert (
            f"{method} reduces average forgetting" in printed
            or f"{method} does NOT reduce average forgetting" in printed
        )
    assert "LoRA vs full fine-tuning" in printed and "LoRA, rank 8" in printed
    for name in (
        "report.html",
        "naive_forgetting.png",
        "naive_vs_ewc.png",
        "lora_vs_full.png",
        "comparison/leaderboard.md",
        "comparison/curves.png",
    ):
        assert (out / name).is_file(), name
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 6 and "<script" not in page
