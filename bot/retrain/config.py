"""The retraining workflow's settings: thresholds from config/retrain.yml, places from the project folder
and bot/settings.py (TRACKER_DB, GATEWAY_DB_URL, MODEL_DIR, the Rasa URL and token).

Every function of bot.retrain takes a `RetrainConfig`, so tests and the console page can point it at
any project folder and any databases.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import yaml

from bot import settings as settings_mod

DEFAULT_FILE = settings_mod.ROOT / "config" / "retrain.yml"


RETIRED_PROMOTION_SETTINGS = ("macro_f1_tolerance", "max_intent_f1_drop", "min_macro_f1")  # before issue 20


class ConfigError(ValueError):
    """config/retrain.yml has a value that makes no sense; the message says which."""


@dataclass(frozen=True)
class InboxRules:
    low_confidence: float = 0.6
    sample_rate: float = 0.05
    sample_seed: int = 42
    duplicate_ratio: float = 90.0
    days: int = 30


@dataclass(frozen=True)
class PromotionRules:
    """The promotion gate's settings (bot/retrain/gate.py): refuse a candidate that is worse with at least
    `confidence` in a paired bootstrap of `resamples` resamples drawn with `seed`."""
    confidence: float = 0.95
    resamples: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class RetrainConfig:
    root: Path                      # project folder: data/, domain.yml, config.yml, models/
    tracker_db: str                 # SQLite path or SQLAlchemy URL of Rasa's SQL tracker store
    gateway_db_url: str             # SQLAlchemy URL of the gateway store
    rasa_url: str                   # the running Rasa server (HTTP API)
    models_dir: Path
    audit_log: Path
    work_dir: Path
    candidates_dir: Path
    test_set: Path                  # the dev set, tests/nlu_test.yml
    inbox: InboxRules = field(default_factory=InboxRules)
    promotion: PromotionRules = field(default_factory=PromotionRules)
    retention_days: int = 90
    nice: int = 10
    rasa_token: Optional[str] = None  # None: bot.settings.rasa_token() (RASA_TOKEN or var/secrets/)
    rasa_servers: Tuple[str, ...] = ()  # every Rasa server a promoted model goes to (default: rasa_url)
    blind_set: Optional[Path] = None    # tests/nlu_test_fresh.yml
    wild_set: Optional[Path] = None     # tests/nlu_wild.yml
    crisis_set: Optional[Path] = None   # tests/crisis_wild.tsv: the safety net's recall may not fall on it

    @property
    def held_out_sets(self) -> Tuple[Tuple[str, Path], ...]:
        """(name, file) of every held-out intent set the promotion gate compares the models on."""
        named = (("dev", self.test_set), ("blind", self.blind_set), ("wild", self.wild_set))
        return tuple((name, Path(path)) for name, path in named if path is not None)

    @property
    def unseen_sets(self) -> Tuple[Path, ...]:
        """Every file whose messages may never become training data: the held-out sets and the crisis set."""
        crisis = (Path(self.crisis_set),) if self.crisis_set is not None else ()
        return tuple(path for _, path in self.held_out_sets) + crisis

    @property
    def all_rasa_servers(self) -> Tuple[str, ...]:
        return self.rasa_servers or (self.rasa_url,)

    @property
    def nlu_dir(self) -> Path:
        return self.root / "data" / "nlu"

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def rasa_config(self) -> Path:
        return self.root / "config.yml"

    @property
    def live_file(self) -> Path:
        return self.work_dir / "live.json"

    @property
    def status_file(self) -> Path:
        return self.work_dir / "training.json"

    def with_changes(self, **changes: Any) -> "RetrainConfig":
        return replace(self, **changes)


def _number(section: Mapping[str, Any], key: str, default: Any, low: float, high: float, kind=float) -> Any:
    value = section.get(key, default)
    if value is None:
        return None
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: {value!r} is not a number")
    if not low <= value <= high:
        raise ConfigError(f"{key}: {value} must be between {low} and {high}")
    return value


def _required(section: Mapping[str, Any], key: str, default: Any, low: float, high: float, kind=float) -> Any:
    value = _number(section, key, default, low, high, kind)
    if value is None:
        raise ConfigError(f"{key}: give a number (default {default})")
    return value


def load_config(path: Optional[Path] = None, root: Optional[Path] = None,
                env: Optional[Mapping[str, str]] = None) -> RetrainConfig:
    """Read config/retrain.yml (or `path`) for the project folder `root` (default: this repository).
    Databases, the Rasa URL and the models folder come from bot/settings.py's environment variables."""
    root = Path(root or settings_mod.ROOT).resolve()
    if path is not None and not Path(path).exists():
        raise ConfigError(f"there is no settings file {path}")
    path = Path(path) if path else root / "config" / "retrain.yml"
    if not path.exists():
        path = DEFAULT_FILE  # a project folder without its own settings uses this repository's
    try:
        raw = (yaml.safe_load(path.read_text()) if path.exists() else {}) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} should be a mapping of sections")
    for section in ("inbox", "promotion", "retention", "training", "paths"):
        if not isinstance(raw.get(section) or {}, dict):
            raise ConfigError(f"{path}: {section} should be a section of settings")
    inbox, promotion = raw.get("inbox") or {}, raw.get("promotion") or {}
    retired = sorted(set(promotion) & set(RETIRED_PROMOTION_SETTINGS))
    if retired:
        raise ConfigError(f"promotion: {', '.join(retired)} is no longer used: a candidate is now refused only "
                          "when it is worse with `confidence` (0.95) in a paired bootstrap on every held-out set, "
                          "or when the safety net's crisis recall falls (bot/retrain/gate.py); remove it")
    paths = raw.get("paths") or {}
    site = settings_mod.load(env) if env is not None else settings_mod.load()

    def place(key: str, default: str) -> Path:
        value = Path(paths.get(key, default))
        return value if value.is_absolute() else root / value

    raw_models = (os.environ if env is None else env).get("MODEL_DIR")  # default: <project>/models
    model_dir = root / "models" if not raw_models else (
        Path(raw_models) if Path(raw_models).is_absolute() else root / raw_models)
    return RetrainConfig(
        root=root,
        tracker_db=str(site.tracker_db),
        gateway_db_url=site.gateway_db_url,
        rasa_url=site.rasa_url,
        rasa_servers=site.rasa_server_urls,
        models_dir=model_dir,
        audit_log=place("audit_log", "var/retrain/audit.jsonl"),
        work_dir=place("work_dir", "var/retrain"),
        candidates_dir=place("candidates_dir", "models/candidates"),
        test_set=place("test_set", "tests/nlu_test.yml"),
        blind_set=place("blind_set", "tests/nlu_test_fresh.yml"),
        wild_set=place("wild_set", "tests/nlu_wild.yml"),
        crisis_set=place("crisis_set", "tests/crisis_wild.tsv"),
        inbox=InboxRules(
            low_confidence=_number(inbox, "low_confidence", 0.6, 0, 1),
            sample_rate=_number(inbox, "sample_rate", 0.05, 0, 1),
            sample_seed=_number(inbox, "sample_seed", 42, -2**31, 2**31, int),
            duplicate_ratio=_number(inbox, "duplicate_ratio", 90, 0, 100),
            days=_number(inbox, "days", 30, 1, 3650, int),
        ),
        promotion=PromotionRules(
            confidence=_required(promotion, "confidence", 0.95, 0.5, 1),
            resamples=_required(promotion, "resamples", 2000, 100, 100_000, int),
            seed=_required(promotion, "seed", 0, 0, 2**32 - 1, int),
        ),
        retention_days=_number(raw.get("retention") or {}, "days", 90, 1, 36500, int),
        nice=_number(raw.get("training") or {}, "nice", 10, 0, 19, int),
    )


def rasa_token(cfg: RetrainConfig) -> str:
    """The token of the Rasa HTTP API: the configured one, else the one the servers use."""
    return cfg.rasa_token or settings_mod.rasa_token(settings_mod.load())
