#!/usr/bin/env python3
"""Keep the Unity package's copies of the shared tables in step with their sources, and give every
asset the .meta file Unity needs (a git-URL package is immutable: Unity will not create them).

    python3 Tools~/sync_shared_data.py          # copy the JSON, write missing .meta files
    python3 Tools~/sync_shared_data.py --check  # CI: exit 1 when a copy drifted or a .meta is missing

Sources (the single source of truth): sdk_python/emobridge/face_tables.json and
sdk_python/emobridge/rig/profiles/*.json. The copies go to Runtime/Resources/EmoBridge/ where the
runtime loads them as TextAssets (Resources.Load works inside packages). The C# never hand-copies them.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parents[2]
SOURCES = REPO / "sdk_python/emobridge"
DATA = PACKAGE / "Runtime/Resources/EmoBridge"

IMPORTERS = {".cs": "MonoImporter", ".asmdef": "AssemblyDefinitionImporter", ".json": "TextScriptImporter",
             ".md": "TextScriptImporter", ".txt": "TextScriptImporter"}
MONO_EXTRA = "  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n"
# Built native libraries get their own PluginImporter .meta from Tools~/install_native.sh.
NATIVE_SUFFIXES = (".so", ".dll", ".bundle", ".dylib")


def copies() -> dict[Path, Path]:
    """Target copy -> source file."""
    pairs = {DATA / "face_tables.json": SOURCES / "face_tables.json"}
    for profile in sorted((SOURCES / "rig/profiles").glob("*.json")):
        pairs[DATA / "RigProfiles" / profile.name] = profile
    return pairs


def assets() -> list[Path]:
    """Every file and folder Unity imports (names ending in ~ or starting with . are skipped by Unity)."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if any(p.endswith("~") or p.startswith(".") for p in rel.parts) or path.suffix == ".meta":
            continue
        if path.name.endswith(NATIVE_SUFFIXES) or ".so." in path.name:
            continue
        found.append(path)
    return found


def meta_text(path: Path) -> str:
    # Deterministic GUIDs (from the package-relative path) so regenerating never churns them.
    guid = hashlib.md5(f"com.emobridge.unity/{path.relative_to(PACKAGE).as_posix()}".encode()).hexdigest()
    head = f"fileFormatVersion: 2\nguid: {guid}\n"
    tail = "  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
    if path.is_dir():
        return head + "folderAsset: yes\nDefaultImporter:\n" + tail
    if path.name == "package.json":
        return head + "PackageManifestImporter:\n" + tail
    importer = IMPORTERS.get(path.suffix, "DefaultImporter")
    extra = MONO_EXTRA if importer == "MonoImporter" else ""
    return head + f"{importer}:\n" + tail.replace("  userData", extra + "  userData", 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift and missing .meta files, change nothing")
    args = parser.parse_args()
    problems = []
    pairs = copies()
    for target, source in pairs.items():
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            problems.append(f"{target.relative_to(REPO)} differs from {source.relative_to(REPO)}")
            if not args.check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read_bytes())
    for stale in sorted((DATA / "RigProfiles").glob("*.json")):
        if stale not in pairs:
            problems.append(f"{stale.relative_to(REPO)} has no source any more")
            if not args.check:
                stale.unlink()
                stale.with_name(stale.name + ".meta").unlink(missing_ok=True)
    for asset in assets():
        meta = asset.with_name(asset.name + ".meta")
        if not meta.is_file():
            problems.append(f"{meta.relative_to(REPO)} is missing")
            if not args.check:
                meta.write_text(meta_text(asset))
    for meta in sorted(PACKAGE.rglob("*.meta")):
        if not meta.with_name(meta.name[:-5]).exists():
            problems.append(f"{meta.relative_to(REPO)} belongs to nothing")
            if not args.check:
                meta.unlink()
    for line in problems:
        print(("drift: " if args.check else "fixed: ") + line)
    if args.check and problems:
        print("run: python3 engine_plugins/unity/com.emobridge.unity/Tools~/sync_shared_data.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
