#!/usr/bin/env bash
# Sets up what the browser tests (tests/browser) and the web chat page need, and nothing else:
# Debian's Chromium, the pinned npm packages (socket.io client, rasa-webchat, axe-core) and the
# Python playwright package in the venv. Safe to run again; each step checks first.
# Never downloads a browser build: Playwright drives /usr/bin/chromium (no `playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NPM_STAMP=node_modules/.setup_browser.stamp
# Belt and braces: no npm package here downloads a browser, and this keeps it that way.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $1 is missing and installing it needs root; run as root (or: sudo apt-get update && sudo apt-get install -y $2)" >&2
    exit 1
  fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# 1. Chromium from Debian.
if [ ! -x "$CHROMIUM" ]; then
  need_root "$CHROMIUM" chromium
  echo "==> installing Debian's chromium (1-2 minutes)"
  apt_install chromium
  if [ ! -x "$CHROMIUM" ]; then
    echo "error: apt-get installed chromium but $CHROMIUM is still missing" >&2
    exit 1
  fi
fi

# 2. npm packages, exactly as package-lock.json pins them.
if ! command -v npm >/dev/null 2>&1; then
  need_root npm "nodejs npm"
  echo "==> installing Debian's nodejs and npm"
  apt_install nodejs npm
fi
if [ ! -f "$NPM_STAMP" ] || [ package-lock.json -nt "$NPM_STAMP" ] || [ package.json -nt "$NPM_STAMP" ]; then
  echo "==> npm ci (socket.io-client, rasa-webchat, axe-core; about 30 seconds)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$NPM_STAMP"
fi

# 3. The Python playwright package (its own Node driver included; no browser).
if [ ! -x "$VENV/bin/python" ]; then
  echo "error: $VENV/bin/python is missing; run scripts/setup.sh (make setup) first" >&2
  exit 1
fi
want=$(sed -n 's/^playwright==//p' requirements-lock.txt | tail -n1)
if [ -z "$want" ]; then
  echo "error: requirements-lock.txt pins no playwright version" >&2
  exit 1
fi
have=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("playwright"))' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "==> installing playwright==$want into $VENV"
  "$VENV/bin/python" -m pip install --quiet "playwright==$want" -c requirements-lock.txt
fi

echo "==> browser setup done: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"), playwright $want, node $(node --version)"
