"""Every user-facing text of the product, file by file, for the tests that check hours, numbers and links.

User-facing: the bot's content (actions/content/*.yml), domain.yml's responses, the gateway's words
(bot/gateway/texts.yml and the string literals of bot/gateway/*.py), its scripts (static/*.js, comments
left out) and its pages (templates/*.html, comments left out).
"""
import ast
import re
from pathlib import Path
from typing import Dict, List

import yaml

from bot.service_hours import fill_hours, hours_words, load_policy

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GATEWAY = ROOT / "bot" / "gateway"


def yaml_strings(node) -> List[str]:
    """The string values of a parsed YAML tree (its comments are not shown to anyone)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in yaml_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in yaml_strings(value)]
    return []


def python_strings(path: Path) -> List[str]:
    """The string literals of a module, docstrings left out (f-strings give their literal parts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def script_text(path: Path) -> str:
    """A script without its comments (/* ... */ blocks and whole-line or trailing // comments)."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"(^|\s)//[^\n]*", r"\1", text)


def page_text(path: Path) -> str:
    return re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8"), flags=re.S)


def user_texts() -> Dict[str, List[str]]:
    """{file, relative to the repository: its user-facing texts, as written (placeholders unfilled)}."""
    texts: Dict[str, List[str]] = {}
    for path in sorted((ROOT / "actions" / "content").glob("*.yml")) + [GATEWAY / "texts.yml"]:
        texts[str(path.relative_to(ROOT))] = yaml_strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    texts["domain.yml"] = [v["text"] for variants in domain["responses"].values() for v in variants]
    for path in sorted(GATEWAY.glob("*.py")):
        texts[str(path.relative_to(ROOT))] = python_strings(path)
    for path in sorted((GATEWAY / "static").glob("*.js")):
        texts[str(path.relative_to(ROOT))] = [script_text(path)]
    for path in sorted((GATEWAY / "templates").glob("*.html")):
        texts[str(path.relative_to(ROOT))] = [page_text(path)]
    return texts


def rendered_user_texts() -> Dict[str, List[str]]:
    """user_texts() as families and advisers see them: the hours from config/service_hours.yml filled in."""
    hours = hours_words(load_policy())
    html_hours = {"$" + name: value for name, value in hours.items()}
    rendered = {}
    for name, texts in user_texts().items():
        filled = [fill_hours(text, hours) for text in texts]
        rendered[name] = [fill_hours_dollar(text, html_hours) for text in filled]
    return rendered


def fill_hours_dollar(text: str, values: Dict[str, str]) -> str:
    for marker, value in values.items():
        text = text.replace(marker, value)
    return text
