"""``python -m webapp migrate | make-moderator EMAIL | run``."""

from __future__ import annotations

import argparse
import asyncio
import sys


def _migrate(_: argparse.Namespace) -> int:
    from webapp.db.migrate import upgrade

    upgrade()
    print("database is at the latest migration")
    return 0


async def _make_moderator(email: str) -> None:
    from webapp.accounts.services import UserService
    from webapp.db.config import build_alchemy_config

    config = build_alchemy_config()
    try:
        async with config.get_session() as session, UserService.new(session=session) as users:
            await users.set_moderator(email)
            await session.commit()
    finally:
        await config.get_engine().dispose()


def _moderator(args: argparse.Namespace) -> int:
    from webapp.accounts.services import AccountError

    try:
        asyncio.run(_make_moderator(args.email))
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.email} is now a moderator")
    return 0


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from webapp.core.settings import get_database_settings, get_web_server_settings, var_dir

    if get_database_settings().is_sqlite:
        var_dir().mkdir(parents=True, exist_ok=True)
        _migrate(args)
    # X-Forwarded-For is believed only from the proxies named in FORWARDED_ALLOW_IPS (uvicorn's setting: addresses
    # or CIDR ranges, comma-separated). Unset, nobody is trusted: otherwise a client could pick its own address and
    # step around the per-address rate limits (uvicorn would trust 127.0.0.1, i.e. every local client, by default).
    server = get_web_server_settings()
    trusted = server.forwarded_allow_ips
    uvicorn.run("webapp.app:create_app", factory=True, host=args.host or server.host, port=args.port or server.port,
                proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp", description="Dr. Skin web site")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="run the Alembic migrations (upgrade head)").set_defaults(func=_migrate)
    moderator = commands.add_parser("make-moderator", help="give an existing account moderator rights")
    moderator.add_argument("email")
    moderator.set_defaults(func=_moderator)
    run = commands.add_parser("run", help="migrate the embedded SQLite database (if used), then serve")
    run.add_argument("--host", default=None, help="default: DRSKIN_WEB_HOST, else 127.0.0.1")
    run.add_argument("--port", type=int, default=None, help="default: DRSKIN_WEB_PORT, else 8000")
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
