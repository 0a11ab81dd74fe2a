"""Store the quick runs the reproduction gallery renders (run by hand, not by the docs build).

For every registered ``trainability reproduce`` target (or those named with ``--only``) this
runs ``trainability reproduce TARGET --quick --json --out TMP`` in a fresh temporary folder,
then stores under ``docs/gallery/TARGET/``:

- ``summary.json``: the summary the command printed, figure paths made relative to the entry,
  plus a ``"gallery"`` record of how it was made (command, wall seconds, commit, date);
  values longer than 20,000 characters of JSON (large arrays) are replaced by a note and
  listed under ``"omitted"``;
- every PNG the run wrote, downsampled to about 70 dpi (the CLI saves 150 dpi) so the
  committed files stay small.

An entry is replaced only after its run succeeded (written to a sibling folder, then renamed),
so a failed or interrupted run leaves the previous entry in place. Running it twice gives the
same layout (idempotent). The docs build never runs a reproduction: the ``reproduction-gallery``
directive (``docs/_ext/trainability_gallery.py``) reads these files.

Usage (from the repository root, with the package installed)::

    nice python docs/gallery/build.py                  # every registered target
    nice python docs/gallery/build.py --only liu-fig2a --only cai-xor
    nice python docs/gallery/build.py --missing        # only targets without an entry
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GALLERY = Path(__file__).resolve().parent
SOURCE_DPI = 150  # verify/_figures.save_figure
TARGET_DPI = 70
MAX_VALUE_CHARS = 20_000  # larger summary values are left out of the stored copy (see trim)


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=GALLERY,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _shrink(src: Path, dst: Path) -> None:
    """Copy a PNG scaled by TARGET_DPI / SOURCE_DPI (Lanczos), palette-free, optimized."""
    from PIL import Image

    with Image.open(src) as im:
        scale = TARGET_DPI / SOURCE_DPI
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        im.convert("RGBA").resize(size, Image.LANCZOS).save(dst, optimize=True)


def _relative_paths(value, run_dir: Path, names: dict[str, str]):
    """The summary with every string naming a file under run_dir replaced by its stored name."""
    if isinstance(value, dict):
        return {k: _relative_paths(v, run_dir, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative_paths(v, run_dir, names) for v in value]
    if isinstance(value, str) and value.startswith(str(run_dir)):
        return names.get(value, Path(value).name)
    return value


def trim(value, limit: int = MAX_VALUE_CHARS, path: str = "") -> tuple[object, list[str]]:
    """The summary with every value whose JSON exceeds ``limit`` characters replaced by a note.

    Large arrays (heatmaps, per-seed curves) are data the figures already show; the gallery
    keeps the protocol, the comparison and the scalars. Returns (trimmed, dropped key paths).
    """
    if len(json.dumps(value)) <= limit or path.endswith(("comparison", "protocol")):
        return value, []
    if isinstance(value, dict):
        out, dropped = {}, []
        for k, v in value.items():
            out[k], d = trim(v, limit, f"{path}.{k}" if path else k)
            dropped += d
        return out, dropped
    return f"<omitted from the gallery: {len(json.dumps(value))} characters>", [path]


def build_entry(target: str, timeout: float) -> float:
    """Run one quick reproduction and store its entry; returns the wall seconds it took."""
    command = ["trainability", "reproduce", target, "--quick", "--json"]
    with tempfile.TemporaryDirectory(prefix=f"gallery-{target}-") as tmp:
        run_dir = Path(tmp) / "run"
        argv = [sys.executable, "-m", "trainability.verify._cli", *command[1:]]
        start = time.perf_counter()
        proc = subprocess.run(
            [*argv, "--out", str(run_dir)],
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{target}: exit code {proc.returncode}")
        summary = json.loads(proc.stdout)
        staged = GALLERY / f".{target}.new"
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir()
        names: dict[str, str] = {}
        for png in sorted(run_dir.rglob("*.png")):
            # Nested figure folders flatten to one name per entry ("a/b.png" -> "a-b.png").
            name = "-".join(png.relative_to(run_dir).parts[1:] or [png.name])
            names[str(png)] = name
            _shrink(png, staged / name)
        summary, dropped = trim(_relative_paths(summary, run_dir, names))
        summary["gallery"] = {
            "command": " ".join(command[:-1]),  # what a reader types; --json only feeds us
            "wall_seconds": round(seconds, 1),
            "commit": _commit(),
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "figures": sorted(names.values()),
            "figure_dpi": TARGET_DPI,
            "omitted": dropped,
        }
        (staged / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=False) + "\n")
        final = GALLERY / target
        shutil.rmtree(final, ignore_errors=True)
        staged.rename(final)
    return seconds


def main(argv: list[str] | None = None) -> int:
    from trainability.verify._registry import reproductions

    registered = sorted(reproductions())
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=registered, metavar="TARGET")
    parser.add_argument("--missing", action="store_true", help="only targets without an entry")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per target")
    args = parser.parse_args(argv)
    targets = args.only or registered
    if args.missing:
        targets = [t for t in targets if not (GALLERY / t / "summary.json").is_file()]
    failed = []
    for target in targets:
        print(f"[gallery] {target} ...", file=sys.stderr, flush=True)
        try:
            seconds = build_entry(target, args.timeout)
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
            print(f"[gallery] {target} FAILED: {exc}", file=sys.stderr, flush=True)
            failed.append(target)
            continue
        print(f"[gallery] {target}: {seconds:.1f} s", file=sys.stderr, flush=True)
    stale = sorted(
        p.name
        for p in GALLERY.iterdir()
        if p.is_dir() and p.name not in registered and not p.name.startswith((".", "_"))
    )
    if stale:
        print(f"[gallery] entries of unregistered targets: {', '.join(stale)}", file=sys.stderr)
    if failed:
        print(f"[gallery] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
