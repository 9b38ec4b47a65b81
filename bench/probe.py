"""In-process measures the benchmark runs in a fresh interpreter of their own.

`parse TREE`: parse every Python file once with libcst (goal 2's yardstick).
`candidates TREE`: for each file that passes memfix's prefilter, a bare libcst parse
against memfix's whole analysis of it (goal 3). Prints JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _files(tree: Path) -> list[Path]:
    return sorted(path for path in tree.rglob("*.py") if path.is_file())


def parse_all(tree: Path) -> dict[str, float]:
    import libcst as cst

    count = 0
    for path in _files(tree):
        try:
            cst.parse_module(path.read_bytes())
            count += 1
        except Exception:  # a file libcst cannot parse counts as parsed
            pass
    return {"files": count}


def candidates(tree: Path) -> dict[str, float]:
    import libcst as cst

    from memfix.config import Settings
    from memfix.pipeline import prefilter
    from memfix.pipeline.engine import fix_source
    from memfix.rules import registry

    codemods = registry.selected((), ())
    words = prefilter.vocabulary(codemods)
    settings = Settings()
    parse_s = analysis_s = 0.0
    count = 0
    for path in _files(tree):
        data = path.read_bytes()
        if not prefilter.is_candidate(data, words):
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        best_parse = best_analysis = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            try:
                cst.parse_module(text)
            except Exception:
                break
            middle = time.perf_counter()
            fix_source(text, path=str(path), codemods=codemods, settings=settings)
            end = time.perf_counter()
            best_parse = min(best_parse, middle - start)
            best_analysis = min(best_analysis, end - middle)
        else:
            parse_s += best_parse
            analysis_s += best_analysis
            count += 1
    return {"files": count, "parse_s": parse_s, "analysis_s": analysis_s}


def main() -> None:
    what, tree = sys.argv[1], Path(sys.argv[2])
    result = parse_all(tree) if what == "parse" else candidates(tree)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
