"""Type completeness of the public API, by pyright (``--verifytypes``), as a ratchet.

Run inside the CI virtual environment after a *non-editable* install (pyright resolves the
installed package). Fails when the share of exported symbols with a known type falls below
``[tool.trainability.typing] completeness`` in ``pyproject.toml``; raise that floor when
annotations are added, never lower it. Prints the score and the worst modules.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    floor = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["trainability"]["typing"][
        "completeness"
    ]
    env = {**os.environ, "VIRTUAL_ENV": sys.prefix, "PATH": f"{Path(sys.executable).parent}:"}
    env["PATH"] += os.environ.get("PATH", "")
    proc = subprocess.run(
        ["pyright", "--verifytypes", "trainability", "--ignoreexternal", "--outputjson"],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",  # never resolve `trainability` from the checkout's folders
        timeout=600,
    )
    try:
        report = json.loads(proc.stdout)["typeCompleteness"]
    except (json.JSONDecodeError, KeyError):
        print(f"typecheck: pyright gave no report: {proc.stderr.strip()[-500:]}")
        return 1
    if not report.get("pyTypedPath"):
        print("typecheck: the installed package has no py.typed")
        return 1
    score = report["completenessScore"]
    unknown = collections.Counter(
        s["name"].rsplit(".", 1)[0]
        for s in report["symbols"]
        if s["isExported"] and not s["isTypeKnown"]
    )
    print(f"typecheck: public API type completeness {score:.3f} (floor {floor:.3f})")
    for module, n in unknown.most_common(5):
        print(f"  {n:4d} symbols of unknown type in {module}")
    if score + 1e-9 < floor:
        print("typecheck: completeness fell below the floor")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
