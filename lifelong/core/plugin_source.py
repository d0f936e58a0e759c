"""The source digest of a plugin strategy: which code of the user's a run of it trained with.

lifelong's own strategies are versioned by their ``revision``. A plugin (a ``--plugin`` file, an
installed package's module, a class in a script or notebook) is versioned by the SHA-256 of its
code, so a user editing their method never gets a run of the earlier code back. Its code is its own
file (or its class's source in a script), the files of its own base classes, and every user module
it reaches: through module globals (``import helpers``, ``from helpers import scale``) and through
the import statements of its source, also those inside functions and methods, which have not run
yet when the digest is taken. A class in a script is digested by its own source, with the
sources of the script's functions and classes it uses and the user modules those reach. Modules are located without importing them
(:func:`importlib.util.find_spec` on already-imported parents only). lifelong, the standard
library and installed third-party packages are not user code: a plugin using only those keeps the
plain digest of its file.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.machinery
import importlib.util
import inspect
import os
import site
import sys
import sysconfig
import types
from typing import Any

SCRIPT_MODULES = ("__main__", "__mp_main__")  # a script's module in the parent / a spawned worker


def strategy_source_digest(cls: type) -> str | None:
    """SHA-256 (hex) of a plugin strategy's code and the user's code it depends on; None for
    lifelong's own strategies and where no source can be read.

    Folded in after the plugin's own source: each user base class's file (method-resolution
    order), then the user modules reached from the plugin's module (or, for a class in a script,
    from the names and imports of the class's source), sorted by module name, then the script's
    functions and classes such a class uses. Where nothing is folded in, the digest is the plain
    SHA-256 of the plugin's file."""
    if cls.__module__.startswith("lifelong."):
        return None
    own = _class_source(cls)
    if own is None:
        return None
    hasher = hashlib.sha256(own)
    seen = {_source_key(cls)}
    framework = {c for b in cls.__mro__ if b.__module__.startswith("lifelong.") for c in b.__mro__}
    for base in cls.__mro__[1:]:
        key = _source_key(base)
        if key in seen or base in framework or not _user_code(base):
            continue
        seen.add(key)
        source = _class_source(base)
        hasher.update(hashlib.sha256(source or base.__qualname__.encode()).digest())
    bases = [b for b in cls.__mro__ if b not in framework and _user_code(b)]
    for key, source in _dependencies(bases):
        if key in seen:
            continue
        seen.add(key)
        hasher.update(hashlib.sha256(source or key.encode()).digest())
    if len(seen) == 1:
        return hashlib.sha256(own).hexdigest()
    return hasher.hexdigest()


def _user_code(cls: type) -> bool:
    """Whether ``cls`` is neither lifelong's nor the interpreter's (builtins, standard library)."""
    top = cls.__module__.split(".")[0]
    return top not in ("lifelong", "builtins") and top not in sys.stdlib_module_names


class _Walk:
    """The user modules reachable from a start, by name and file (one walk per digest)."""

    def __init__(self, packages: set[str]) -> None:
        self.packages = packages  # the plugin's own top-level packages count even when installed
        self.installed = _installed_dirs()
        self.found: dict[str, str] = {}
        self.visited: set[str] = set()
        self.queue: list[tuple[str, str]] = []

    def add(self, name: str, path: str | None) -> None:
        """Queue module ``name`` (its file ``path``) if it is the user's and not seen yet."""
        if name in self.visited:
            return
        self.visited.add(name)
        path = self._user_file(name, path)
        if path is not None:
            self.found[name] = path
            self.queue.append((name, path))

    def add_module(self, module: types.ModuleType) -> None:
        self.add(module.__name__, getattr(module, "__file__", None))

    def add_value(self, value: Any) -> None:
        """Queue the module a global refers to: a module, or the module of a class or function."""
        if isinstance(value, types.ModuleType):
            self.add_module(value)
        elif isinstance(value, (type, types.FunctionType)):
            module = sys.modules.get(getattr(value, "__module__", None) or "")
            if module is not None:
                self.add_module(module)

    def add_imports(self, tree: ast.AST, package: str | None) -> None:
        """Queue the modules named by every import statement in ``tree``, at any depth."""
        for name in _imported_names(tree, package):
            if name not in self.visited:
                self.add(name, _locate(name))

    def run(self) -> list[str]:
        """Walk until no new user module turns up; their files, sorted by module name."""
        while self.queue:
            name, path = self.queue.pop()
            module = sys.modules.get(name)
            if module is not None:
                for value in list(vars(module).values()):
                    self.add_value(value)
            source = _read_file(path)
            if source is not None:
                package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
                self.add_imports(_parse(source), package or None)
        return [self.found[name] for name in sorted(self.found)]

    def _user_file(self, name: str, path: str | None) -> str | None:
        """``path`` if module ``name`` is the user's ``.py`` file: not lifelong's, the
        interpreter's or an installed third-party package's (a module of the plugin's own package
        counts even when installed)."""
        top = name.split(".")[0]
        if not path or not str(path).endswith(".py") or name in SCRIPT_MODULES:
            return None
        if top in ("lifelong", "builtins") or top in sys.stdlib_module_names:
            return None
        if top in self.packages:
            return str(path)
        if os.path.realpath(path).startswith(tuple(self.installed)):
            return None
        return str(path)


def _dependencies(classes: list[type]) -> list[tuple[str, bytes | None]]:
    """What ``classes`` depend on of the user's, keyed as :func:`_source_key` keys them: the files
    of the user modules reachable from the modules defining them (sorted by module name), then,
    for a class in a script, the source of each function and class of the script it uses
    (sorted by name)."""
    modules = [
        sys.modules[c.__module__]
        for c in classes
        if c.__module__ in sys.modules and c.__module__ not in SCRIPT_MODULES
    ]
    walk = _Walk({m.__name__.split(".")[0] for m in modules})
    for module in modules:
        walk.visited.add(module.__name__)
        path = getattr(module, "__file__", None)
        walk.queue.append((module.__name__, path or ""))
    in_script: dict[str, bytes] = {}
    for cls in classes:
        if cls.__module__ in SCRIPT_MODULES:
            _add_script_class(walk, cls, in_script)
    files = [(f"file:{path}", _read_file(path)) for path in walk.run()]
    return [*files, *sorted((f"script:{name}", code) for name, code in in_script.items())]


def _add_script_class(walk: _Walk, cls: type, in_script: dict[str, bytes]) -> None:
    """Start the walk from what a class defined in a script uses, and collect in ``in_script``
    the source of every function and class of the script it uses, directly or through those
    (by qualified name). The rest of the script (its data loading, its loop) is not the
    strategy's."""
    script = vars(sys.modules.get(cls.__module__) or types.ModuleType(cls.__module__))
    pending: list[Any] = [cls]
    while pending:
        try:
            tree = _parse(inspect.getsource(pending.pop()).encode())
        except (OSError, TypeError):
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and node.id in script):
                continue
            value = script[node.id]
            local = isinstance(value, (type, types.FunctionType))
            if local and getattr(value, "__module__", None) == cls.__module__:
                name = value.__qualname__
                if name != cls.__qualname__ and name not in in_script:
                    try:
                        in_script[name] = inspect.getsource(value).encode()
                    except (OSError, TypeError):
                        continue
                    pending.append(value)
            else:
                walk.add_value(value)
        walk.add_imports(tree, None)


def _parse(source: bytes) -> ast.AST:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return ast.Module(body=[], type_ignores=[])


def _imported_names(tree: ast.AST, package: str | None) -> list[str]:
    """Module names an import statement in ``tree`` may load: each dotted prefix of ``import a.b``,
    and for ``from a import b`` the module ``a`` (relative to ``package``) and ``a.b`` (in case
    ``b`` is a submodule)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.extend(_prefixes(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level and not package:
                continue
            relative = "." * node.level + (node.module or "")
            try:
                base = importlib.util.resolve_name(relative, package) if node.level else relative
            except ImportError:  # beyond the top-level package
                continue
            names.extend(_prefixes(base))
            names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _locate(name: str) -> str | None:
    """The file of module ``name``, without running any code of the user's."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    spec = _unimported_spec(name)
    return spec.origin if spec is not None and spec.has_location else None


def _unimported_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """Where module ``name`` would be loaded from: ``find_spec`` for a top-level name (which
    imports nothing), else a search of the parent package's folders (``__path__`` of an imported
    parent, or the parent's own spec, found the same way)."""
    parent, _, last = name.rpartition(".")
    try:
        if not parent:
            return importlib.util.find_spec(name)
        imported = sys.modules.get(parent)
        if imported is not None:
            folders = getattr(imported, "__path__", None)
        else:
            spec = _unimported_spec(parent)
            folders = spec.submodule_search_locations if spec is not None else None
        return importlib.machinery.PathFinder.find_spec(last, list(folders)) if folders else None
    except (ImportError, ValueError):
        return None


def _installed_dirs() -> list[str]:
    """The interpreter's library folders (standard library, site-packages), resolved."""
    folders = {sysconfig.get_paths()[k] for k in ("purelib", "platlib", "stdlib")}
    folders |= set(getattr(site, "getsitepackages", list)())
    folders.add(getattr(site, "getusersitepackages", str)())
    return [os.path.realpath(d) + os.sep for d in folders if d]


def _source_key(cls: type) -> str:
    """What one source digest covers: the class's module file, or the class in a script."""
    if cls.__module__ in SCRIPT_MODULES:
        return f"script:{cls.__qualname__}"
    path = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return f"file:{path}" if path else f"class:{cls.__module__}.{cls.__qualname__}"


def _class_source(cls: type) -> bytes | None:
    """The bytes of the file defining ``cls``, or its class source where no file holds it (a
    script's ``__main__``, which a spawned worker sees as ``__mp_main__``)."""
    module = sys.modules.get(cls.__module__)
    script = cls.__module__ in SCRIPT_MODULES
    path = None if script else getattr(module, "__file__", None)
    if path is not None and (data := _read_file(path)) is not None:
        return data
    try:
        return inspect.getsource(cls).encode()
    except (OSError, TypeError):
        return None


def _read_file(path: str) -> bytes | None:
    """A file's bytes, or None where it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None
