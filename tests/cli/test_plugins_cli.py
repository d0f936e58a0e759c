"""Plugin strategies: ``--plugin`` modules and files, ``plugins:`` in YAML (also in spawned compare
workers), entry points of installed packages, ``lifelong list``, config validation, broken plugins."""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from lifelong.cli import main
from lifelong.core import registry

PLUGIN = '''
"""A test plugin: fine-tuning with a scaled loss."""
from dataclasses import dataclass

from lifelong import Strategy, StrategyConfig, check, field, register


@dataclass(frozen=True)
class ScaledConfig(StrategyConfig):
    scale: float = field(1.0, "multiplies the loss")

    def __post_init__(self):
        check(self.scale > 0, "scale must be > 0")


@register
class Scaled(Strategy):
    name = "{name}"
    config_class = ScaledConfig
    paper = "a test plugin"

    def loss(self, batch):
        return self.config.scale * self.classification_loss(batch)
'''
TINY = ["--benchmark", "split-digits", "--iterations", "4", "--batch-size", "16", "--hidden", "8"]
TINY += ["--eval-every", "0", "--threads", "1"]


@pytest.fixture
def fresh_registry(monkeypatch):
    """Built-in strategies only, entry points not read yet; restored after the test."""
    registry.list_strategies()
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_broken_entry_points", {})


def write_plugin(folder: Path, source: str = PLUGIN) -> tuple[str, str]:
    """A plugin module with a unique name in ``folder``; returns (module, strategy name)."""
    module = f"plugin_{uuid.uuid4().hex[:8]}"
    strategy = module.replace("_", "-")
    (folder / f"{module}.py").write_text(source.format(name=strategy))
    return module, strategy


@pytest.fixture
def plugin(tmp_path, monkeypatch, fresh_registry):
    folder = tmp_path / "plugins"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    module, strategy = write_plugin(folder)
    yield module, strategy
    sys.modules.pop(module, None)


def one_line_error(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_run_with_plugin_records_it_and_resume_imports_it(plugin, tmp_path, capsys):
    module, strategy = plugin
    out = tmp_path / "run"
    argv = ["run", *TINY, "--plugin", module, "-s", strategy, "--set", "scale=2", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["plugins"] == [module] and saved["strategy"] == strategy
    assert saved["strategy_params"] == {"scale": "2"}  # as given; converted when built
    (out / "metrics.json").unlink()
    registry._STRATEGIES.pop(strategy)  # a fresh process would not know the plugin either
    sys.modules.pop(module)
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert len(json.loads((out / "metrics.json").read_text())["accuracy_matrix"]) == 5


def test_list_marks_plugins_with_their_module(plugin, capsys):
    module, strategy = plugin
    assert main(["list", "strategies", "--plugin", module]) == 0
    printed = capsys.readouterr().out
    assert f"{strategy}  [task, domain, class]  a test plugin  (plugin: {module})" in printed
    assert "    scale (float, default 1.0): multiplies the loss" in printed
    assert "ewc  [task, domain, class]" in printed and "(plugin: lifelong" not in printed


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("scal=2", "strategy '{s}': unknown key 'scal'; valid: scale"),
        ("scale=big", "strategy '{s}': scale: expected a number, got 'big'"),
        ("scale=-1", "strategy '{s}': scale must be > 0"),
    ],
)
def test_plugin_hyperparameters_are_validated_like_built_in_ones(plugin, setting, message, capsys):
    module, strategy = plugin
    err = one_line_error(
        ["run", *TINY, "--plugin", module, "-s", strategy, "--set", setting], capsys
    )
    assert message.format(s=strategy) in err


def test_broken_or_missing_plugins_are_one_line_errors(plugin, tmp_path, capsys):
    err = one_line_error(["run", *TINY, "--plugin", "no_such_plugin", "-s", "naive"], capsys)
    assert "plugin 'no_such_plugin' failed to import: ModuleNotFoundError" in err
    folder = tmp_path / "plugins"
    broken, _ = write_plugin(folder, "raise RuntimeError('boom at import')\n")
    err = one_line_error(["list", "--plugin", broken], capsys)
    assert f"plugin '{broken}' failed to import: RuntimeError: boom at import" in err
    err = one_line_error(["run", *TINY, "--plugin", str(folder / "missing.py")], capsys)
    assert "missing.py': no such file" in err


def test_a_python_file_is_a_plugin_too(fresh_registry, tmp_path, capsys):
    module, strategy = write_plugin(tmp_path)
    path = tmp_path / f"{module}.py"
    out = tmp_path / "run"
    argv = ["run", *TINY, "--plugin", str(path), "-s", strategy, "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["plugins"] == [str(path)]


def test_compare_workers_import_plugins_from_the_config(plugin, tmp_path, capsys):
    """--jobs 2: runs happen in spawned processes, which know only what each run's config says."""
    module, strategy = plugin
    out = tmp_path / "c"
    argv = ["compare", *TINY, "--plugin", module, "--strategies", f"naive,{strategy}"]
    assert main([*argv, "--seeds", "0", "--jobs", "2", "--out", str(out)]) == 0, capsys.readouterr()
    outcomes = json.loads((out / "outcomes.json").read_text())["runs"]
    assert [o["status"] for o in outcomes] == ["done", "done"], outcomes
    assert yaml.safe_load((out / "compare.yaml").read_text())["plugins"] == [module]


@pytest.mark.parametrize("where", ["file", "flag"])
def test_sweep_takes_plugins_from_its_file_or_the_flag(plugin, where, tmp_path, capsys):
    module, strategy = plugin
    spec = {
        "benchmark": "split-digits",
        "setting": "task",
        **({"plugins": [module]} if where == "file" else {}),
        "run": {"iterations": 4, "batch_size": 16, "hidden": [8], "eval_every": 0},
        "seeds": {"tuning": [0], "evaluation": [7]},
        "protocol": {"name": "first-tasks", "tasks": 2},
        "strategies": {strategy: {"space": {"scale": [0.5, 2.0]}}},
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    flag = ["--plugin", module] if where == "flag" else []
    out = tmp_path / "s"
    assert main(["sweep", str(path), *flag, "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert f"| {strategy} |" in capsys.readouterr().out
    trial = json.loads((out / "results.json").read_text())["trials"][-1]
    assert yaml.safe_load((out / trial["folder"] / "config.yaml").read_text())["plugins"] == [
        module
    ]


# ------------------------------------------------------------------------------ entry points
def fake_distribution(site: Path, entry_points: dict[str, str], name: str = "fake_plugins") -> None:
    """What ``pip install`` leaves behind: a .dist-info folder with entry_points.txt."""
    info = site / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = [f"{key} = {value}" for key, value in entry_points.items()]
    (info / "entry_points.txt").write_text("[lifelong.strategies]\n" + "\n".join(lines) + "\n")


def test_installed_entry_points_are_found_lazily(fresh_registry, tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    site.mkdir()
    module, strategy = write_plugin(site)
    fake_distribution(
        site,
        {
            strategy: f"{module}:Scaled",
            "broken-one": "no_such_module:Thing",
            "misnamed": f"{module}:Scaled",
        },
    )
    monkeypatch.syspath_prepend(str(site))
    assert registry.get_strategy("ewc").name == "ewc"  # built-ins never load plugins
    assert not registry._entry_points_loaded
    assert registry.get_strategy(strategy).paper == "a test plugin"
    with pytest.raises(registry.PluginError, match=r"'broken-one' \(entry point no_such_module"):
        registry.get_strategy("broken-one")
    with pytest.raises(registry.PluginError, match=rf"named '{strategy}'; the entry point must"):
        registry.get_strategy("misnamed")
    assert main(["list", "strategies"]) == 0  # a broken plugin does not hide the others
    listed = capsys.readouterr()
    assert f"{strategy}  [" in listed.out and "ewc  [" in listed.out
    assert "warning: not listed: plugin strategy 'broken-one'" in listed.err
    assert "of package fake_plugins" in listed.err
    assert main(["run", *TINY, "-s", strategy, "--quiet", "--out", str(tmp_path / "r")]) == 0
    sys.modules.pop(module, None)


def test_entry_point_to_a_module_that_registers_on_import(fresh_registry, tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    module, strategy = write_plugin(site)
    fake_distribution(site, {strategy: module, "absent": module})
    monkeypatch.syspath_prepend(str(site))
    assert registry.get_strategy(strategy).__module__ == module
    with pytest.raises(registry.PluginError, match="'absent'.*registered no strategy named"):
        registry.get_strategy("absent")
    sys.modules.pop(module, None)


def test_plugins_are_not_part_of_a_runs_identity():
    """Folders written before plugins existed (no key) or with other import paths stay valid."""
    from lifelong import RunConfig
    from lifelong.core.identity import identity

    with_plugin = RunConfig.of(strategy="ewc", plugins=("my_package.strategies",)).to_dict()
    without_key = {
        k: v for k, v in RunConfig.of(strategy="ewc").to_dict().items() if k != "plugins"
    }
    assert identity(with_plugin) == identity(without_key)
    assert identity(with_plugin) != identity(RunConfig.of(strategy="si").to_dict())


def test_a_run_of_a_plugin_whose_code_changed_since_is_never_reused(plugin, tmp_path, capsys):
    """A plugin strategy records its source file's SHA-256 with its hyperparameters: after the file
    is edited, the finished run is neither returned nor resumed, and the error names the digest.
    Records written before the digest was recorded stay valid; built-in strategies record none
    (they are versioned by ``revision``)."""
    from lifelong import RunConfig, get_strategy
    from lifelong.core.identity import SOURCE, resolved_hyperparameters
    from lifelong.core.runner import resolve
    from lifelong.experiments.executor import finished_metrics

    module, strategy = plugin
    out = tmp_path / "run"
    argv = ["run", *TINY, "--plugin", module, "-s", strategy, "--quiet", "--out", str(out)]
    assert main(argv) == 0
    metrics_file = out / "metrics.json"
    first = json.loads(metrics_file.read_text())
    path = Path(sys.modules[module].__file__)
    assert first["hyperparameters"][SOURCE] == hashlib.sha256(path.read_bytes()).hexdigest()
    config = resolve(RunConfig.of(**yaml.safe_load((out / "config.yaml").read_text())))
    assert finished_metrics(config) is not None

    path.write_text(path.read_text().replace("self.config.scale *", "2 * self.config.scale *"))
    registry._STRATEGIES.pop(strategy)  # a fresh process imports the edited file
    sys.modules.pop(module)
    registry.load_plugins([module])
    assert finished_metrics(config) is None
    err = one_line_error(["run", "--resume", str(out), "--quiet"], capsys)
    assert f"hyperparameters.{SOURCE}" in err and "another configuration" in err

    legacy = {**first, "hyperparameters": {"scale": 1.0}}  # written before sources were recorded
    metrics_file.write_text(json.dumps(legacy))
    assert finished_metrics(config) is not None
    assert SOURCE not in (resolved_hyperparameters({"strategy": "ewc"}) or {})
    assert get_strategy("ewc").__module__.startswith("lifelong.")


def test_a_strategy_in_a_script_is_identified_by_its_class_source_in_every_process(monkeypatch):
    """A class in a script is ``__main__`` in the parent and ``__mp_main__`` in a spawned compare
    worker; both digest the class's source, not the whole script, so both agree."""
    import inspect

    from lifelong.core.plugin_source import strategy_source_digest

    class InScript:
        pass

    this_file = sys.modules[__name__]  # stands for the script in both processes
    digests = set()
    for module in ("__main__", "__mp_main__"):
        monkeypatch.setitem(sys.modules, module, this_file)
        InScript.__module__ = module
        digests.add(strategy_source_digest(InScript))
    class_source = hashlib.sha256(inspect.getsource(InScript).encode()).hexdigest()
    assert digests == {class_source}
    whole_file = hashlib.sha256(Path(this_file.__file__).read_bytes()).hexdigest()
    assert class_source != whole_file


def test_a_plugin_subclassing_a_users_base_in_another_file_depends_on_that_file(
    tmp_path, monkeypatch
):
    """Editing the user's base class (another file) changes the plugin's digest; a base of the
    standard library's does not enter it."""
    import abc
    import importlib

    from lifelong.core.plugin_source import strategy_source_digest

    monkeypatch.syspath_prepend(str(tmp_path))
    tag = uuid.uuid4().hex[:8]
    base, child = tmp_path / f"base_{tag}.py", tmp_path / f"child_{tag}.py"
    base.write_text("import abc\n\nclass Base(abc.ABC):\n    scale = 1.0\n")
    child.write_text(f"from base_{tag} import Base\n\nclass Child(Base):\n    pass\n")

    def digest() -> str | None:
        for name in (f"child_{tag}", f"base_{tag}"):
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return strategy_source_digest(importlib.import_module(f"child_{tag}").Child)

    try:
        first = digest()
        assert first != hashlib.sha256(child.read_bytes()).hexdigest()  # the base is part of it
        assert digest() == first  # stable across imports
        base.write_text("import abc\n\nclass Base(abc.ABC):\n    scale = 2.0\n")
        assert digest() not in (first, None)
        assert strategy_source_digest(importlib.import_module(f"base_{tag}").Base) == (
            hashlib.sha256(base.read_bytes()).hexdigest()  # abc.ABC is not folded in
        )
        assert abc.ABC in importlib.import_module(f"base_{tag}").Base.__mro__
    finally:
        for name in (f"child_{tag}", f"base_{tag}"):
            sys.modules.pop(name, None)


def test_a_plugin_depends_on_the_users_helper_modules_it_imports(tmp_path, monkeypatch):
    """Editing a helper module the plugin imports, or a module that helper imports in turn,
    changes the plugin's digest; torch, numpy, lifelong and the standard library do not enter it,
    so a plugin importing only those keeps the plain digest of its file."""
    import importlib

    from lifelong.core.plugin_source import strategy_source_digest

    monkeypatch.syspath_prepend(str(tmp_path))
    tag = uuid.uuid4().hex[:8]
    names = (f"plug_{tag}", f"helper_{tag}", f"deep_{tag}", f"alone_{tag}")
    plug, helper, deep, alone = (tmp_path / f"{name}.py" for name in names)
    imports = "import json\n\nimport numpy\nimport torch\n\nimport lifelong\n"
    plug.write_text(f"{imports}from helper_{tag} import scale\n\nclass Plug:\n    pass\n")
    helper.write_text(f"import deep_{tag}\n\ndef scale():\n    return 2 * deep_{tag}.unit()\n")
    deep.write_text("def unit():\n    return 1.0\n")
    alone.write_text(f"{imports}\nclass Alone:\n    pass\n")

    def digest(module: str, cls: str) -> str | None:
        for name in names:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return strategy_source_digest(getattr(importlib.import_module(module), cls))

    try:
        first = digest(names[0], "Plug")
        assert first not in (hashlib.sha256(plug.read_bytes()).hexdigest(), None)
        assert digest(names[0], "Plug") == first  # stable across imports
        helper.write_text(helper.read_text().replace("2 *", "3 *"))
        second = digest(names[0], "Plug")
        assert second not in (first, None)
        deep.write_text("def unit():\n    return 0.5\n")  # imported by the helper, not the plugin
        assert digest(names[0], "Plug") not in (first, second, None)
        assert digest(names[3], "Alone") == hashlib.sha256(alone.read_bytes()).hexdigest()
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_a_plugin_depends_on_helpers_it_imports_inside_functions_not_yet_run(tmp_path, monkeypatch):
    """An import inside a method has not run when the digest is taken (before training): the
    digest reads the import statements of the plugin's source, and of its package's modules
    (relative imports too), and locates those modules without importing them."""
    import importlib

    from lifelong.core.plugin_source import strategy_source_digest

    monkeypatch.syspath_prepend(str(tmp_path))
    tag = uuid.uuid4().hex[:8]
    package = tmp_path / f"pkg_{tag}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    plug = package / "plug.py"
    plug.write_text(
        "class Plug:\n"
        "    def step(self):\n"
        f"        import lazy_{tag}\n"
        "        from .sibling import scale\n"
        f"        return lazy_{tag}.unit() * scale()\n"
    )
    lazy = tmp_path / f"lazy_{tag}.py"
    lazy.write_text("def unit():\n    return 1.0\n")
    sibling = package / "sibling.py"
    sibling.write_text("def scale():\n    return 2.0\n")
    names = (f"pkg_{tag}", f"pkg_{tag}.plug", f"pkg_{tag}.sibling", f"lazy_{tag}")

    def digest() -> str | None:
        for name in names:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        found = strategy_source_digest(importlib.import_module(names[1]).Plug)
        assert names[2] not in sys.modules and names[3] not in sys.modules  # located, not run
        return found

    try:
        first = digest()
        assert first not in (hashlib.sha256(plug.read_bytes()).hexdigest(), None)
        assert digest() == first
        lazy.write_text("def unit():\n    return 0.5\n")
        second = digest()
        assert second not in (first, None)
        sibling.write_text("def scale():\n    return 3.0\n")
        assert digest() not in (first, second, None)
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_a_strategy_in_a_script_depends_on_the_helpers_its_class_uses(tmp_path, monkeypatch):
    """A class in a script is identified by its source and what that source uses: the script's own
    functions (and what they use in turn), modules of the user's it names, imports in its
    methods. What only the rest of the script uses does not enter it."""
    import importlib
    import runpy
    import types

    from lifelong.core.plugin_source import strategy_source_digest

    monkeypatch.syspath_prepend(str(tmp_path))
    tag = uuid.uuid4().hex[:8]
    used, lazy, other = (tmp_path / f"{kind}_{tag}.py" for kind in ("used", "lazy", "other"))
    for path in (used, lazy, other):
        path.write_text("def value():\n    return 1.0\n")
    script = tmp_path / f"script_{tag}.py"
    parts = {
        "head": f"import used_{tag}\nimport other_{tag}\n\n",
        "inner": "def inner():\n    return 1.0\n\n",
        "helper": "def helper():\n    return 2 * inner()\n\n",
        "loop": "def loop():\n    return 3.0\n\n",
        "class": (
            "class InScript:\n"
            "    def step(self):\n"
            f"        import lazy_{tag}\n"
            f"        return used_{tag}.value() + lazy_{tag}.value() + helper()\n\n"
        ),
        "tail": f"DATA = other_{tag}.value() + loop()\n",
    }
    names = [f"{kind}_{tag}" for kind in ("used", "lazy", "other")]

    def digest() -> str | None:
        script.write_text("".join(parts.values()))
        for name in names:
            sys.modules.pop(name, None)
        importlib.invalidate_caches()
        globals_ = runpy.run_path(str(script), run_name="__main__")
        main = types.ModuleType("__main__")
        main.__dict__.update(globals_)
        monkeypatch.setitem(sys.modules, "__main__", main)
        return strategy_source_digest(globals_["InScript"])

    try:
        first = digest()
        assert first is not None and digest() == first
        other.write_text("def value():\n    return 2.0\n")  # used by the script, not the class
        parts["loop"] = "def loop():\n    return 4.0\n\n"
        parts["tail"] += "# a comment\n"
        assert digest() == first
        seen = {first}
        for change in (
            lambda: used.write_text("def value():\n    return 3.0\n"),
            lambda: lazy.write_text("def value():\n    return 4.0\n"),
            lambda: parts.update(helper="def helper():\n    return 3 * inner()\n\n"),
            lambda: parts.update(inner="def inner():\n    return 0.5\n\n"),  # via helper
        ):
            change()
            now = digest()
            assert now is not None and now not in seen
            seen.add(now)
    finally:
        for name in names:
            sys.modules.pop(name, None)
