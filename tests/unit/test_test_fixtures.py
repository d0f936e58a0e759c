"""The real-data and browser fixtures skip with a how-to outside CI and fail under ``CI=true``."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import SHARED_DATA, data_candidates, find_browser, require

# The inner run loads no third-party plugins: re-importing them (hypothesis's above all) takes seconds.
INNER_ARGS = ("-ra", "-p", "no:xdist", "-p", "no:hypothesispytest", "-p", "no:benchmark",
              "-p", "no:anyio", "-p", "no:cacheprovider")  # fmt: skip
USES_FIXTURES = """
def test_mnist(shared_data):
    pass

def test_wordnet(wordnet_data):
    pass

def test_browser(chromium):
    pass
"""


@pytest.fixture
def nothing_available(monkeypatch, tmp_path, pytester):
    """No data in $LIFELONG_DATA, no browser on PATH; a test file using the three fixtures."""
    monkeypatch.setenv("LIFELONG_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest("from tests.conftest import chromium, shared_data, wordnet_data  # noqa")
    pytester.makepyfile(USES_FIXTURES)
    return pytester


def test_absent_data_and_browser_skip_with_a_reason_saying_how_to_provide_them(nothing_available):
    result = nothing_available.runpytest_inprocess(*INNER_ARGS)
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*MNIST / Fashion-MNIST not found*LIFELONG_DATA=*"
            "lifelong data download mnist fashion-mnist*",
            "*WordNet 3.0 not found*LIFELONG_DATA=*lifelong data download wordnet*",
            "*no Chromium binary*apt-get install chromium*",
        ],
        consecutive=False,
    )


def test_under_ci_their_absence_is_a_failure(nothing_available, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = nothing_available.runpytest_inprocess(*INNER_ARGS)
    result.assert_outcomes(errors=3)  # a fixture failing at setup: an error, the run fails
    result.stdout.fnmatch_lines(["*CI=true: required here, not skipped*"])


@pytest.mark.parametrize(("ci", "outcome"), [(None, "skip"), ("", "skip"), ("true", "fail")])
def test_require(monkeypatch, ci, outcome):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    require(True, "never raised")
    expected = pytest.skip.Exception if outcome == "skip" else pytest.fail.Exception
    with pytest.raises(expected, match="how to get it"):
        require(False, "how to get it")


def test_data_is_looked_for_in_lifelong_data_alone_else_shared_then_user_cache(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("LIFELONG_DATA", str(tmp_path / "mine"))
    assert data_candidates() == [tmp_path / "mine"]
    monkeypatch.delenv("LIFELONG_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_candidates() == [SHARED_DATA, tmp_path / "cache" / "lifelong"]


def test_find_browser_looks_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_browser() is None
    fake = tmp_path / "chromium-browser"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert find_browser() == os.fspath(fake)
