"""A deterministic synthetic repository: ordinary modules mixed with memfix's bug programs."""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One file in this many is a bug program copied from the examples (or the fixtures).
BUG_EVERY = 50

_ORDINARY = '''"""Module {index}: ordinary code with nothing for memfix."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class Record{index}:
    name: str
    size: int = {size}

    def to_json(self) -> str:
        return json.dumps({{"name": self.name, "size": self.size}})


def total_{index}(records: list[Record{index}]) -> int:
    count = 0
    for record in records:
        if record.size > {threshold}:
            count += record.size
    return count
'''


def bug_programs() -> list[str]:
    """The bug programs: examples/legacy_app when present, else the fixtures' inputs."""
    examples = sorted((ROOT / "examples" / "legacy_app").glob("*.py"))
    texts = [path.read_text() for path in examples if path.name != "__init__.py"]
    if texts:
        return texts
    fixtures = sorted((ROOT / "tests" / "fixtures").glob("*/*.py"))
    return [path.read_text().split("# output")[0] for path in fixtures]


def generate(folder: Path, count: int) -> Path:
    """Write `count` files under `folder` (same content for the same count) and return it."""
    marker = folder / ".complete"
    if marker.exists():
        return folder
    programs = bug_programs()
    rng = random.Random(count)
    for index in range(count):
        package = folder / f"pkg{index // 100:03d}"
        package.mkdir(parents=True, exist_ok=True)
        if index % BUG_EVERY == 0 and programs:
            text = programs[(index // BUG_EVERY) % len(programs)]
        else:
            text = _ORDINARY.format(
                index=index, size=rng.randint(1, 99), threshold=rng.randint(1, 50)
            )
        (package / f"module_{index:05d}.py").write_text(text)
    marker.write_text("")
    return folder
