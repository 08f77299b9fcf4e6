"""Reading data/nlu/ and its provenance, without Rasa: for tests, model selection and make eval.

Examples paraphrased from public pages live in data/nlu/public_*.yml. data/nlu_sources.tsv lists,
for each of those files, the pages used in the order their examples appear under each intent:
(page, intent, examples, file). So every public example can be traced to its page, and model
selection can hold out whole pages (a page never feeds both sides of a fold).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "data" / "nlu"
SOURCES = ROOT / "data" / "nlu_sources.tsv"
PUBLIC_PREFIX = "public_"
_ENTITY = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]+\}")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    file: str
    page: Optional[str] = None  # normalised source page, for public examples


def plain_text(line: str) -> str:
    """An example line without Rasa's entity markup."""
    return _ENTITY.sub(lambda m: m.group(1) or m.group(2), line).strip()


def read_blocks(path: Path) -> List[Tuple[str, List[str]]]:
    """(intent, examples) for each `- intent:` block of a Rasa NLU file, in file order."""
    out = []
    for block in (yaml.safe_load(Path(path).read_text()) or {}).get("nlu") or []:
        if isinstance(block, dict) and "intent" in block:
            lines = [l.strip()[2:].strip() for l in (block.get("examples") or "").strip().splitlines()
                     if l.strip().startswith("- ")]
            out.append((block["intent"], [plain_text(l) for l in lines]))
    return out


_TRACKING = re.compile(r"^(?:utm_\w+|sid|fbclid|gclid|ref|source|amp|hl|sort|page|start)$", re.I)


def normalise_url(url: str) -> str:
    """A page's identity: no scheme, "www.", fragment, trailing slash or tracking parameters; the
    query parameters that pick a page ("viewtopic.php?t=5410") are kept, sorted; lower case."""
    parts = urlsplit(url.strip().rstrip(").,"))
    host = parts.netloc.lower()
    host = host[4:] if host.startswith("www.") else host
    path = parts.path.rstrip("/")
    query = sorted(q for q in parse_qsl(parts.query) if not _TRACKING.match(q[0]))
    return (f"{host}{path}" + (f"?{urlencode(query)}" if query else "")).lower()


def read_sources(path: Path = SOURCES) -> List[Dict[str, str]]:
    with Path(path).open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_examples(nlu_dir: Path = NLU_DIR, sources: Path = SOURCES) -> List[Example]:
    """Every training example, public ones with their page. Raises ValueError if the sources file and
    the public files disagree (a test keeps them in step)."""
    rows = read_sources(sources) if Path(sources).exists() else []
    queues: Dict[Tuple[str, str], List[Tuple[str, int]]] = {}
    for row in rows:
        queues.setdefault((row["file"], row["intent"]), []).append((normalise_url(row["page"]), int(row["examples"])))
    examples: List[Example] = []
    for path in sorted(Path(nlu_dir).glob("*.yml")):
        public = path.name.startswith(PUBLIC_PREFIX)
        for intent, lines in read_blocks(path):
            if not public:
                examples.extend(Example(t, intent, path.name) for t in lines)
                continue
            pages = [page for page, n in queues.pop((path.name, intent), []) for _ in range(n)]
            if len(pages) != len(lines):
                raise ValueError(f"{path.name} {intent}: {len(lines)} examples, {len(pages)} in {Path(sources).name}")
            examples.extend(Example(t, intent, path.name, p) for t, p in zip(lines, pages))
    if queues:
        raise ValueError(f"{Path(sources).name} lists blocks that are not in data/nlu: {sorted(queues)}")
    return examples


def read_tsv_pages(path: Path, column: str = "source_url") -> Iterable[str]:
    with Path(path).open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            yield normalise_url(row[column])
