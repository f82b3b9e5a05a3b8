"""Owns the generated gRPC/protobuf code of the wire contract (``proto/emobridge/v1/emobridge.proto``).

The stubs are generated at build time with grpcio-tools, never written by hand or committed:
``python -m emobridge.wire`` (run by setup.sh) writes ``emobridge_pb2.py`` and ``emobridge_pb2_grpc.py``
into the git-ignored ``_generated/`` folder next to this file, and ``from emobridge.wire import pb, rpc``
does the same on first use when they are missing or stale (older than the .proto, or made from another
version of it or of grpcio-tools). ``pb`` holds the messages, ``rpc`` the service stub and servicer.

The .proto is found through ``EMOBRIDGE_PROTO_ROOT`` (a folder holding ``emobridge/v1/emobridge.proto``)
or, in the editable install this repository uses, in the repository's ``proto/`` folder. Where
``_generated/`` cannot be written (a read-only install) the stubs go to the user's cache folder.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

PROTO_FILE = "emobridge/v1/emobridge.proto"  # path below the proto root, as protoc and reflection name it
PB_MODULE = "emobridge_pb2"
RPC_MODULE = "emobridge_pb2_grpc"
GENERATED_DIR = Path(__file__).with_name("_generated")
_PACKAGE = __name__ + "._generated"
_STAMP = "SOURCE"
# protoc writes `from emobridge.v1 import emobridge_pb2 as ...` into the gRPC module; that path would
# resolve inside this Python package (also named emobridge), so it is made relative.
_RPC_IMPORT = "from emobridge.v1 import emobridge_pb2 as"
_RPC_IMPORT_FIXED = "from . import emobridge_pb2 as"


class WireError(RuntimeError):
    """The stubs cannot be generated or loaded; the message says what to do."""


def find_proto_root() -> Path:
    """The folder holding ``emobridge/v1/emobridge.proto`` (env override first, then the repository)."""
    candidates: list[Path] = []
    env = os.environ.get("EMOBRIDGE_PROTO_ROOT")
    if env:
        candidates.append(Path(env))
    # sdk_python/emobridge/wire/__init__.py -> the repository root is three folders up.
    candidates.append(Path(__file__).resolve().parents[3] / "proto")
    for root in candidates:
        if (root / PROTO_FILE).is_file():
            return root
    tried = ", ".join(str(c / PROTO_FILE) for c in candidates)
    raise WireError(
        f"cannot find the wire contract {PROTO_FILE} (tried {tried}). Install emobridge editable from a "
        "checkout of the repository (pip install -e sdk_python) or set EMOBRIDGE_PROTO_ROOT to the folder "
        "that holds emobridge/v1/emobridge.proto, then run `python -m emobridge.wire`."
    )


def _tools_version() -> str:
    try:
        from importlib.metadata import version

        return f"grpcio-tools {version('grpcio-tools')}"
    except Exception:  # not installed, or metadata unreadable
        return "grpcio-tools ?"


def _source_stamp(proto: Path) -> str:
    """What the stubs were made from: the .proto's content hash and the generator's version."""
    return f"{hashlib.sha256(proto.read_bytes()).hexdigest()} {_tools_version()}\n"


def _is_current(out_dir: Path, proto: Path) -> bool:
    files = [out_dir / f"{PB_MODULE}.py", out_dir / f"{RPC_MODULE}.py", out_dir / _STAMP]
    if not all(f.is_file() for f in files):
        return False
    if min(f.stat().st_mtime for f in files[:2]) < proto.stat().st_mtime:
        return False
    return (out_dir / _STAMP).read_text(encoding="utf-8") == _source_stamp(proto)


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            return True
    except OSError:
        return False


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or str(Path.home() / ".cache")
    return Path(base) / "emobridge" / "wire"


def generate(proto_root: str | os.PathLike[str] | None = None, out_dir: str | os.PathLike[str] | None = None,
             force: bool = False) -> Path:
    """Generate the Python stubs with grpcio-tools when missing or stale (always with ``force``).

    Returns the folder holding ``emobridge_pb2.py`` and ``emobridge_pb2_grpc.py``. Files are written
    to a temporary folder and moved into place, so a concurrent reader sees old or new files, never
    half-written ones.
    """
    root = Path(proto_root) if proto_root is not None else find_proto_root()
    proto = root / PROTO_FILE
    if not proto.is_file():
        raise WireError(f"{proto} does not exist; proto_root must hold {PROTO_FILE}")
    if out_dir is None:
        out_dir = GENERATED_DIR if _writable(GENERATED_DIR) else _cache_dir()
    out = Path(out_dir)
    if not force and _is_current(out, proto):
        return out
    try:
        from grpc_tools import protoc
    except ImportError:
        raise WireError("grpcio-tools is not installed; run `pip install grpcio-tools` (setup.sh does)") from None
    from importlib import resources

    out.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory(dir=out, prefix=".gen-") as tmp:
        args = ["grpc_tools.protoc", f"-I{root}", f"-I{well_known}", f"--python_out={tmp}",
                f"--grpc_python_out={tmp}", PROTO_FILE]
        code = protoc.main(args)
        made = Path(tmp) / Path(PROTO_FILE).parent
        if code != 0 or not (made / f"{PB_MODULE}.py").is_file():
            raise WireError(f"protoc failed (exit {code}) on {proto}; its errors are printed above")
        rpc_text = (made / f"{RPC_MODULE}.py").read_text(encoding="utf-8")
        if _RPC_IMPORT not in rpc_text:
            raise WireError(f"unexpected import layout in the generated {RPC_MODULE}.py (grpcio-tools changed?)")
        (made / f"{RPC_MODULE}.py").write_text(rpc_text.replace(_RPC_IMPORT, _RPC_IMPORT_FIXED), encoding="utf-8")
        (made / "__init__.py").write_text('"""Generated from proto/ by emobridge.wire; do not edit."""\n',
                                          encoding="utf-8")
        (made / _STAMP).write_text(_source_stamp(proto), encoding="utf-8")
        for name in ("__init__.py", f"{PB_MODULE}.py", f"{RPC_MODULE}.py", _STAMP):  # stamp last
            os.replace(made / name, out / name)
    shutil.rmtree(out / "__pycache__", ignore_errors=True)
    return out


def _import_from(folder: Path) -> tuple[ModuleType, ModuleType]:
    """Import the generated modules from ``folder`` as the package ``emobridge.wire._generated``."""
    init = folder / "__init__.py"
    if not init.is_file():
        init.write_text('"""Generated from proto/ by emobridge.wire; do not edit."""\n', encoding="utf-8")
    spec = importlib.util.spec_from_file_location(_PACKAGE, init, submodule_search_locations=[str(folder)])
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = package
    spec.loader.exec_module(package)
    try:
        return importlib.import_module(f"{_PACKAGE}.{PB_MODULE}"), importlib.import_module(f"{_PACKAGE}.{RPC_MODULE}")
    except ImportError as err:
        raise WireError(f"cannot import the generated stubs in {folder} ({err}); install grpcio and protobuf "
                        "(setup.sh does) and run `python -m emobridge.wire --force`") from err
    except Exception as err:  # protobuf raises VersionError etc. for stubs from another generator version
        raise WireError(f"the generated stubs in {folder} do not load ({type(err).__name__}: {err}); "
                        "run `python -m emobridge.wire --force`") from err


_loaded: tuple[ModuleType, ModuleType] | None = None


def load() -> tuple[ModuleType, ModuleType]:
    """``(pb, rpc)``: the message module and the gRPC module, generated first if needed.

    Without a reachable .proto, stubs generated earlier (by setup.sh or a build step) are used as
    they are; with none either, a WireError says how to get them.
    """
    global _loaded
    if _loaded is None:
        try:
            root = find_proto_root()
        except WireError:
            folder = next((d for d in (GENERATED_DIR, _cache_dir()) if (d / _STAMP).is_file()), None)
            if folder is None:
                raise
        else:
            folder = generate(root)
        _loaded = _import_from(folder)
    return _loaded


def __getattr__(name: str) -> Any:
    """``pb`` and ``rpc`` are loaded (and generated) on first access, not at import of emobridge.wire."""
    if name == "pb":
        return load()[0]
    if name == "rpc":
        return load()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PROTO_FILE", "WireError", "find_proto_root", "generate", "load", "pb", "rpc"]
