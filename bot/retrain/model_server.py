"""The running Rasa server's HTTP API, as far as the retraining workflow needs it (Rasa 3.6, behind the
`--auth-token` given to `rasa run --enable-api`; see rasa/server.py):

- GET  /status?token=T       -> {"model_file": ..., "model_id": ..., ...}: the model being served
- PUT  /model?token=T        body {"model_file": "<absolute path on the server's machine>"}: load that
                              model and swap it in (HTTP 204). Conversations live in the tracker store,
                              not in the model, so none is dropped; replies wait while it loads.
- POST /model/parse?token=T  body {"text": ...}: what the served model makes of a message
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional


class ModelServerError(RuntimeError):
    """The Rasa server could not be reached or refused the request."""


class ModelServer:
    def __init__(self, url: str, token: str, timeout: float = 600.0):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def _request(self, method: str, path: str, body: Optional[Dict[str, Any]] = None,
                 timeout: Optional[float] = None) -> Optional[Any]:
        query = urllib.parse.urlencode({"token": self.token})
        request = urllib.request.Request(
            f"{self.url}{path}?{query}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"} if body is not None else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise ModelServerError(f"Rasa answered {method} {path} with HTTP {error.code}: {detail}") from error
        except (urllib.error.URLError, OSError) as error:
            raise ModelServerError(f"cannot reach the Rasa server at {self.url}: {error}") from error
        return json.loads(raw) if raw.strip() else None

    def status(self) -> Dict[str, Any]:
        return self._request("GET", "/status", timeout=10) or {}

    def load(self, model_file: Path) -> None:
        """Swap the served model for `model_file` (made absolute: the server resolves it itself)."""
        self._request("PUT", "/model", {"model_file": str(Path(model_file).resolve())})

    def parse(self, text: str) -> Dict[str, Any]:
        return self._request("POST", "/model/parse", {"text": text}, timeout=30) or {}


class ModelFleet:
    """Every Rasa server of the deployment (RASA_SERVER_URLS), with ModelServer's interface: a promoted
    model is loaded into each of them; status and parse come from the first that answers. The model
    path must be readable by every server (one machine, or a shared models folder)."""

    def __init__(self, urls, token: str, timeout: float = 600.0):
        self.servers = [ModelServer(url, token, timeout) for url in urls]
        if not self.servers:
            raise ValueError("no Rasa server URL")
        self.url = self.servers[0].url

    def _first(self, call):
        errors = []
        for server in self.servers:
            try:
                return call(server)
            except ModelServerError as error:
                errors.append(str(error))
        raise ModelServerError("; ".join(errors))

    def status(self) -> Dict[str, Any]:
        return self._first(lambda server: server.status())

    def parse(self, text: str) -> Dict[str, Any]:
        return self._first(lambda server: server.parse(text))

    def load(self, model_file: Path) -> None:
        """Load into every server, even if one fails; then report the ones that failed."""
        failed = []
        for server in self.servers:
            try:
                server.load(model_file)
            except ModelServerError as error:
                failed.append(f"{server.url}: {error}")
        if failed:
            loaded = len(self.servers) - len(failed)
            raise ModelServerError(f"the model was loaded by {loaded} of {len(self.servers)} Rasa servers; "
                                   "failed: " + "; ".join(failed))
