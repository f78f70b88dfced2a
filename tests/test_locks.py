"""Row locks never block a foreign key's check. Every lock the code takes is PostgreSQL's FOR NO KEY UPDATE (no
primary key is ever changed), which still serializes the lockers but lets an insert that refers to the locked row
check its foreign key. A FOR UPDATE on a hub, held by an officer's release while it queued a pre-arrival message,
deadlocked at commit with a worker inserting a row that refers to that hub (found by the 1,000-order chaos run)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = re.compile(r"select_for_update\((?!no_key=True)|FOR UPDATE")


def test_every_row_lock_lets_foreign_key_checks_through():
    sources = [
        path for path in ROOT.rglob("*.py") if not {".venv", "tests", "migrations"} & set(path.relative_to(ROOT).parts)
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if LOCKS.search(line.replace("NO KEY UPDATE", ""))
    ]
    assert found == []
