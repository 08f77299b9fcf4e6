"""Adviser and staff accounts: `python -m bot.gateway.users add NAME --role adviser|duty_lead|staff [--display-name X]`.

For the first account (`make adviser`); staff manage the others on the accounts page (/console/accounts).

The password is asked for twice at the prompt (or read from the ADVISER_PASSWORD environment
variable, for scripts); it is stored only as an argon2 hash.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime, timezone
from typing import List, Optional

from bot import settings as settings_mod
from bot.gateway.accounts import MIN_PASSWORD, ROLES, USERNAME, password_problem
from bot.gateway.security import hash_password
from bot.gateway.store import Store



def _password(env=os.environ) -> str:
    password = env.get("ADVISER_PASSWORD")
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise SystemExit("The two passwords were different.")
    problem = password_problem(password)
    if problem:
        raise SystemExit(problem)
    return password


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway.users", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account or reset its password")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="adviser")
    add.add_argument("--display-name", help="the first name families see (default: the username)")
    remove = commands.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    args = parser.parse_args(argv)

    store = Store(settings_mod.load().gateway_db_url)
    username = args.username.strip().lower()
    if args.command == "add":
        if not USERNAME.match(username):
            raise SystemExit("A username is 2-32 lower-case letters, digits, dots, dashes or underscores.")
        display = (args.display_name or username).strip()[:40]
        store.add_user(username, display, args.role, hash_password(_password()), datetime.now(timezone.utc))
        # a new password (or role) ends every session of the account: its console sockets close at
        # every gateway's next round, and no copy of an old cookie works again
        store.end_sessions_of(username)
        store.audit("cli", "account_saved", datetime.now(timezone.utc), detail=f"{username} ({args.role})")
        print(f"Saved {args.role} account {username!r} ({display}).")
    else:
        deleted = store.remove_user(username)
        store.end_sessions_of(username)  # its console sockets close at every gateway's next round
        store.audit("cli", "account_removed", datetime.now(timezone.utc), detail=username)
        print(f"Removed {username!r}." if deleted else f"No account {username!r}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
