"""Commands of the HTTP service, dispatched by the main ``meterread`` CLI (recognizer/cli.py calls
:func:`add_subcommands`). Each function works on the database named by the settings / environment."""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence

from recognizer.workers import THREAD_VARIABLES, cpu_count, one_thread_per_process  # noqa: F401 (THREAD_VARIABLES: the serve tests)

from .settings import ENV_PREFIX, Settings


def _settings(settings: Settings | None) -> Settings:
    return settings or Settings.from_env()


def _session(settings: Settings):
    from .db import init_db, make_sessionmaker

    engine = init_db(settings)
    return engine, make_sessionmaker(engine)()


def _shown(url: str) -> str:
    """A database URL fit for printing: the password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: print nothing of it
        return "(database URL)"


class CommandError(SystemExit):
    def __init__(self, message: str):
        super().__init__(f"error: {message}")


def init_db(*, settings: Settings | None = None) -> str:
    """Create or upgrade the database schema (Alembic migrations); returns the database URL."""
    from .db import init_db as _init

    settings = _settings(settings)
    _init(settings).dispose()
    settings.photos_path.mkdir(parents=True, exist_ok=True)
    return settings.db_url


def create_account(number: str, name: str, *, settings: Settings | None = None) -> int:
    from . import store

    engine, session = _session(_settings(settings))
    try:
        if store.get_account_by_number(session, number=number):
            raise CommandError(f"account {number} already exists")
        account = store.create_account(session, number=number, name=name)
        session.commit()
        return account.id
    finally:
        session.close()
        engine.dispose()


def _account_id(session, ref: str | int) -> int:
    from . import store

    account = store.get_account_by_number(session, number=str(ref))
    if account is None and str(ref).isdigit():
        account = store.get_account(session, account_id=int(ref))
    if account is None:
        raise CommandError(f"no account {ref!r} (give its number or id)")
    return account.id


def create_meter(
    account: str | int, serial: str, kind: str, integer_digits: int, fractional_digits: int = 0,
    registers: Sequence[str] = ("T1",), *, settings: Settings | None = None,
) -> int:
    from . import store
    from .models import METER_KINDS

    if kind not in METER_KINDS:
        raise CommandError(f"kind must be one of {', '.join(METER_KINDS)}")
    engine, session = _session(_settings(settings))
    try:
        account_id = _account_id(session, account)
        if store.get_meter_by_serial(session, serial=serial):
            raise CommandError(f"meter {serial} already exists")
        meter = store.create_meter(
            session, account_id=account_id, serial=serial, kind=kind, integer_digits=integer_digits,
            fractional_digits=fractional_digits, registers=list(registers) or ["T1"],
        )
        session.commit()
        return meter.id
    finally:
        session.close()
        engine.dispose()


def create_user(
    email: str, password: str, role: str = "customer", accounts: Sequence[str | int] = (), *,
    settings: Settings | None = None, name: str | None = None,
) -> int:
    from . import store
    from .models import ROLES
    from .security import hash_password

    if role not in ROLES:
        raise CommandError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise CommandError("the password needs at least 8 characters")
    settings = _settings(settings)
    engine, session = _session(settings)
    try:
        if store.get_user_by_email(session, email=email):
            raise CommandError(f"user {email} already exists")
        account_ids = [_account_id(session, a) for a in accounts]
        user = store.create_user(
            session, email=email, password_hash=hash_password(password, settings=settings), role=role, name=name,
            account_ids=account_ids,
        )
        session.commit()
        return user.id
    finally:
        session.close()
        engine.dispose()


DEMO_ACCOUNT = "DEMO-0001"
DEMO_METER = "DEMO-W-0001"


def demo(*, settings: Settings | None = None, out=None) -> dict:
    """Create (once) a demo account, a water meter and an operator, a reviewer and a customer with fresh
    random passwords; print how to log in. Running it again resets the demo users' passwords."""
    from . import store
    from .security import hash_password

    out = out or sys.stdout
    settings = _settings(settings)
    engine, session = _session(settings)
    try:
        account = store.get_account_by_number(session, number=DEMO_ACCOUNT) or store.create_account(
            session, number=DEMO_ACCOUNT, name="Demo household"
        )
        meter = store.get_meter_by_serial(session, serial=DEMO_METER) or store.create_meter(
            session, account_id=account.id, serial=DEMO_METER, kind="water", integer_digits=5, fractional_digits=3,
        )
        creds = {}
        for role in ("operator", "reviewer", "customer"):
            email = f"{role}@demo.meterread"
            password = secrets.token_urlsafe(9)
            user = store.get_user_by_email(session, email=email)
            if user is None:
                user = store.create_user(
                    session, email=email, password_hash=hash_password(password, settings=settings), role=role,
                    name=f"Demo {role}", account_ids=[account.id] if role == "customer" else [],
                )
            else:
                user.password_hash = hash_password(password, settings=settings)
            creds[role] = {"email": email, "password": password}
        session.commit()
        print(f"Database: {_shown(settings.db_url)}", file=out)
        print(f"Account {account.number} (id {account.id}), water meter {meter.serial} (id {meter.id}, 5+3 digits)", file=out)
        for role, c in creds.items():
            print(f"  {role:9s} {c['email']:26s} password: {c['password']}", file=out)
        print("Start the server with `meterread serve`, open http://127.0.0.1:8000/docs, press Authorize "
              "and log in with one of the above.", file=out)
        return {"account_id": account.id, "meter_id": meter.id, "users": creds}
    finally:
        session.close()
        engine.dispose()


def default_readers(workers: int = 1) -> int:
    """Recognizer processes per HTTP worker: together one per CPU."""
    return max(1, cpu_count() // max(1, workers))


def serve_settings(settings: Settings, *, workers: int = 1, readers: int | None = None) -> Settings:
    """The settings ``serve`` runs with: ``readers`` recognizer processes per HTTP worker (default:
    METERREAD_READER_PROCESSES when set, else one per CPU over all workers; 0 reads photos in the request
    threads)."""
    if readers is None and os.environ.get(f"{ENV_PREFIX}READER_PROCESSES"):
        return settings
    return settings.with_(reader_processes=default_readers(workers) if readers is None else max(0, readers))


def serve(host: str = "127.0.0.1", port: int = 8000, *, settings: Settings | None = None, reload: bool = False,
          workers: int = 1, readers: int | None = None, log_level: str = "info") -> None:
    """Run the HTTP service with uvicorn: ``workers`` HTTP processes (default 1), each handing photos to
    ``readers`` single-threaded recognizer processes (default: one per CPU in all; see api/recognition.py).
    With several HTTP workers the migrations are applied once, before they start."""
    import uvicorn

    workers = max(1, workers or 1)
    settings = serve_settings(_settings(settings), workers=workers, readers=readers)
    one_thread_per_process()
    if reload or workers > 1:
        # uvicorn imports api.asgi in every worker: they build their settings from the environment
        env = settings.to_env()
        if workers > 1 and settings.migrate_on_startup:
            init_db(settings=settings)  # once here: workers migrating a fresh database together would race
            env[f"{ENV_PREFIX}MIGRATE_ON_STARTUP"] = "0"
        os.environ.update(env)
        uvicorn.run("api.asgi:app", host=host, port=port, reload=reload, workers=None if reload else workers,
                    log_level=log_level)
        return
    from .app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


# ---- argparse ------------------------------------------------------------------------------------


def _with_db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="folder of the SQLite database and photos (env METERREAD_DATA_DIR, default ./var)")
    parser.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://... (env DATABASE_URL)")


def _settings_from(args) -> Settings:
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None), database_url=getattr(args, "database_url", None)
    )


def _cmd_serve(args) -> int:
    serve(args.host, args.port, settings=_settings_from(args), reload=args.reload, workers=args.workers,
          readers=args.readers)
    return 0


def _cmd_init_db(args) -> int:
    print(f"database ready: {_shown(init_db(settings=_settings_from(args)))}")
    return 0


def _cmd_create_account(args) -> int:
    print(f"account {args.number} created (id {create_account(args.number, args.name, settings=_settings_from(args))})")
    return 0


def _cmd_create_meter(args) -> int:
    registers = [r.strip() for r in (args.registers or "T1").split(",") if r.strip()]
    meter_id = create_meter(
        args.account, args.serial, args.kind, args.integer_digits, args.fractional_digits, registers,
        settings=_settings_from(args),
    )
    print(f"meter {args.serial} created (id {meter_id}, registers {', '.join(registers)})")
    return 0


def _cmd_create_user(args) -> int:
    password = args.password
    if not password:
        import getpass

        password = getpass.getpass(f"password for {args.email}: ")
    user_id = create_user(args.email, password, args.role, args.account or [], settings=_settings_from(args), name=args.name)
    print(f"user {args.email} ({args.role}) created (id {user_id})")
    return 0


def receive_mail(raw: bytes, *, settings: Settings | None = None, reader=None) -> dict:
    """One customer's e-mail, as a mail server pipes it to a command: read, submitted (or kept as a draft)
    exactly as ``POST /api/inbound/email`` does; returns the receipt, whose ``message`` is the reply to
    send. Raises CommandError with the reason when the message is refused (nothing is stored then)."""
    from recognizer.read import read_photo

    from . import services
    from .errors import ApiError
    from .files import PhotoStore

    settings = _settings(settings)
    engine, session = _session(settings)
    try:
        receipt = services.receive_email(session, settings=settings, photos=PhotoStore(settings.photos_path),
                                         reader=reader or read_photo, raw=raw)
        sub = receipt.submission
        return {
            "status": receipt.status, "message": receipt.message, "meter_serial": receipt.meter.serial,
            "reading": sub.value if sub else (receipt.draft.reading if receipt.draft else None),
            "submission_id": sub.id if sub else None, "draft_id": receipt.draft.id if receipt.draft else None,
            "skipped": receipt.skipped, "replayed": receipt.replayed,
        }
    except ApiError as exc:
        session.rollback()
        raise CommandError(f"{exc.code or exc.status_code}: {exc.detail}") from None
    finally:
        session.close()
        engine.dispose()


def _cmd_receive_mail(args) -> int:
    import json

    raw = sys.stdin.buffer.read() if args.message == "-" else open(args.message, "rb").read()
    print(json.dumps(receive_mail(raw, settings=_settings_from(args)), ensure_ascii=False, indent=2))
    return 0


def _cmd_demo(args) -> int:
    demo(settings=_settings_from(args))
    return 0


def add_subcommands(subparsers) -> None:
    """Register serve, init-db, create-account, create-meter, create-user, receive-mail and demo on ``subparsers``
    (from ``parser.add_subparsers()``); each sets ``func`` to a handler taking the parsed args."""
    p = subparsers.add_parser("serve", help="run the HTTP service (API docs at /docs)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    p.add_argument("--workers", type=int, default=1, help="HTTP worker processes (default 1)")
    p.add_argument("--readers", type=int, default=None,
                   help=f"recognizer processes per HTTP worker (default: one per CPU in all, {cpu_count()} here; "
                        "0 reads photos in the HTTP process's threads)")
    _with_db_options(p)
    p.set_defaults(func=_cmd_serve)

    p = subparsers.add_parser("init-db", help="create or upgrade the database schema")
    _with_db_options(p)
    p.set_defaults(func=_cmd_init_db)

    p = subparsers.add_parser("create-account", help="create a customer account")
    p.add_argument("number", help="account number (unique)")
    p.add_argument("name", help="account holder's name")
    _with_db_options(p)
    p.set_defaults(func=_cmd_create_account)

    p = subparsers.add_parser("create-meter", help="create a meter on an account")
    p.add_argument("account", help="account number (or id)")
    p.add_argument("serial", help="meter serial number (unique)")
    p.add_argument("--kind", required=True, choices=["electricity", "water", "gas"])
    p.add_argument("--integer-digits", type=int, required=True)
    p.add_argument("--fractional-digits", type=int, default=0)
    p.add_argument("--registers", default="T1", help="comma-separated tariff registers, e.g. T1,T2 (default T1)")
    _with_db_options(p)
    p.set_defaults(func=_cmd_create_meter)

    p = subparsers.add_parser("create-user", help="create a customer, reviewer or operator")
    p.add_argument("email")
    p.add_argument("--password", help="asked for when omitted")
    p.add_argument("--role", default="customer", choices=["customer", "reviewer", "operator"])
    p.add_argument("--account", action="append", help="account number a customer belongs to (repeatable)")
    p.add_argument("--name")
    _with_db_options(p)
    p.set_defaults(func=_cmd_create_user)

    p = subparsers.add_parser(
        "receive-mail", help="a customer's e-mail with a meter photo (a saved .eml, or - for standard input, as a "
                             "mail server pipes it): read, submit, print the reply to send")
    p.add_argument("message", help="the message file (.eml), or - to read it from standard input")
    _with_db_options(p)
    p.set_defaults(func=_cmd_receive_mail)

    p = subparsers.add_parser("demo", help="create demo users, an account and a meter; print the logins")
    _with_db_options(p)
    p.set_defaults(func=_cmd_demo)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (python -m api.cli ...), same verbs as ``meterread``."""
    parser = argparse.ArgumentParser(prog="python -m api.cli", description="meterread HTTP service commands")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
