"""bench/_docs.py: a bench script replaces only its own section of a docs page, atomically."""

from __future__ import annotations

import os

from bench._docs import update_section


def test_a_section_is_replaced_in_place_and_others_are_kept(tmp_path):
    page = tmp_path / "results.md"
    update_section(page, "a", "first A", title="Results")
    update_section(page, "b", "only B")
    update_section(page, "a", "second A")
    text = page.read_text()
    assert text.startswith("# Results\n")
    assert "second A" in text and "first A" not in text and "only B" in text
    assert text.index("second A") < text.index("only B")  # replaced where it was


def test_the_page_gets_the_users_file_mode_and_no_temporary_is_left(tmp_path):
    page = tmp_path / "results.md"
    old = os.umask(0o022)
    try:
        update_section(page, "a", "A")
    finally:
        os.umask(old)
    assert page.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.lock", "results.md"]
