"""The shape of what the bot says: chat bubbles with optional buttons, plus slot updates."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Bubble:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


@dataclass
class Reply:
    bubbles: List[Bubble]
    slots: Dict[str, Any] = field(default_factory=dict)
    wants_person: bool = False  # the action should run the handoff decision after these bubbles
    handoff: bool = False  # ask the gateway to queue the family for an adviser

    @property
    def texts(self) -> List[str]:
        return [b.text for b in self.bubbles]


def payload(intent: str, entities: Optional[Dict[str, str]] = None) -> str:
    """A button payload Rasa parses without NLU: /intent{"entity": "value"}."""
    return f"/{intent}" + (json.dumps(entities, separators=(",", ":")) if entities else "")
