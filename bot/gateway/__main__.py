"""`python -m bot.gateway`: serve the webchat gateway and the adviser console (make run does this)."""
from __future__ import annotations

import logging

from aiohttp import web

from bot import settings as settings_mod
from bot.gateway.app import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s gateway %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    cfg = settings_mod.load()
    web.run_app(create_app(cfg), host=cfg.bind_host, port=cfg.gateway_port, print=None,
                access_log=None, shutdown_timeout=5)


if __name__ == "__main__":
    main()
