"""timbra's command line: validate, seal and stamp CFDI, and manage sandbox keys.

Only translation lives here: arguments in, calls into timbra.cfdi / timbra.pac, text or JSON out.
"""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from timbra import __version__
from timbra.clock import SYSTEM, Clock, FixedClock
from timbra.errors import TimbraError
from timbra.settings import Settings

if TYPE_CHECKING:  # the operator commands import these lazily: `timbra validate` needs no database
    from timbra.pac.accounts import Accounts, Principal
    from timbra.pac.credits import Balance, Credits
    from timbra.store.db import Database
    from timbra.store.models import Account, ApiKey, Package, User

PROGRESS_THRESHOLD = 50


def _settings() -> Settings:
    return Settings.from_env()


def _clock(at: str | None) -> Clock:
    if not at:
        return SYSTEM
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return FixedClock(moment)


def _collect(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".xml"))
        else:
            files.append(p)
    return files


@click.group()
@click.version_option(__version__, prog_name="timbra")
def main() -> None:
    """timbra: PAC de código abierto para CFDI / open-source PAC for Mexico's CFDI."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Salida JSON (una línea por archivo) / JSON lines output.")
@click.option("--at", help="Validar como si fuera este momento (ISO 8601) / validate as of this time.")
@click.option("--quiet", "-q", is_flag=True, help="Solo archivos con hallazgos / only files with findings.")
def validate(paths: tuple[str, ...], as_json: bool, at: str | None, quiet: bool) -> None:
    """Valida CFDI (archivos o carpetas) y muestra cada hallazgo / validate CFDI files or folders.

    Exit status 1 when any file has a finding."""
    from timbra.cfdi.validate import Options
    from timbra.cfdi.validate import validate as validate_bytes
    from timbra.pac.stamping import padron_from_settings, trust_store

    s = _settings()
    clock = _clock(at)
    # The same padrón as the stamp path, so `timbra validate` says what a stamp would say.
    opts = Options(trust=trust_store(s), now=clock.now(), stamp_window_hours=s.stamp_window_hours,
                   future_tolerance_seconds=s.future_tolerance_seconds, allow_cfdi33=s.allow_cfdi33,
                   max_bytes=s.max_document_bytes, padron=padron_from_settings(s))
    files = _collect(paths)
    failed = 0
    out = sys.stdout

    def report(path: Path) -> None:
        nonlocal failed
        try:
            data = path.read_bytes()
        except OSError as exc:
            failed += 1
            _print_file(out, path, None, f"no se pudo leer: {exc}", as_json)
            return
        result = validate_bytes(data, opts)
        if result.findings:
            failed += 1
        if result.findings or not quiet:
            _print_file(out, path, result.findings, None, as_json)

    if len(files) >= PROGRESS_THRESHOLD and not as_json:
        with click.progressbar(files, label="Validando", file=sys.stderr) as bar:
            for f in bar:
                report(f)
    else:
        for f in files:
            report(f)
    if not as_json and len(files) > 1:
        click.echo(f"{len(files)} archivos, {len(files) - failed} válidos, {failed} con hallazgos", err=True)
    sys.exit(1 if failed else 0)


def _print_file(out, path: Path, findings, error: str | None, as_json: bool) -> None:
    if as_json:
        payload = {"file": str(path), "ok": not findings and error is None,
                   "findings": [f.as_dict() for f in findings or []]}
        if error:
            payload["error"] = error
        out.write(json.dumps(payload, ensure_ascii=False) + "\n")
        return
    if error:
        out.write(f"{path}: ERROR {error}\n")
    elif not findings:
        out.write(f"{path}: OK\n")
    else:
        out.write(f"{path}: {len(findings)} hallazgo(s)\n")
        for f in findings:
            line = f"  {f.code:<10} {f.node}: {f.message}"
            extras = []
            if f.value is not None:
                extras.append(f"valor={f.value!r}")
            if f.expected is not None:
                extras.append(f"esperado={f.expected!r}")
            if f.detail:
                extras.append(f.detail)
            if extras:
                line += "\n             " + "; ".join(extras)
            out.write(line + "\n")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", help="Archivo de salida (- para stdout) / output file (- for stdout).")
@click.option("--json", "as_json", is_flag=True, help="Resumen JSON / JSON summary.")
def stamp(file: str, output: str | None, as_json: bool) -> None:
    """Timbra un CFDI sellado con el certificado del PAC / stamp a sealed CFDI."""
    from timbra.pac.stamping import stamper_from_settings

    stamper = stamper_from_settings(_settings())
    try:
        result = stamper.stamp(Path(file).read_bytes())
    except TimbraError as exc:
        if as_json:
            click.echo(json.dumps(exc.as_dict(), ensure_ascii=False))
        else:
            click.echo(f"{file}: no timbrado: {exc.code} {exc.message}", err=True)
            _print_file(sys.stderr, Path(file), exc.findings, None, False)
        sys.exit(1)
    target = output or str(Path(file).with_name(Path(file).stem + "_timbrado.xml"))
    if target == "-":
        sys.stdout.buffer.write(result.xml)
    else:
        Path(target).write_bytes(result.xml)
    summary = {"uuid": result.uuid, "fecha_timbrado": result.fecha_timbrado,
               "no_certificado_sat": result.timbre.no_certificado_sat, "output": target}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False), err=target == "-")
    else:
        click.echo(f"UUID {result.uuid}  FechaTimbrado {result.fecha_timbrado}  -> {target}", err=target == "-")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--cer", required=True, type=click.Path(exists=True, dir_okay=False), help="CSD .cer")
@click.option("--key", required=True, type=click.Path(exists=True, dir_okay=False), help="CSD .key")
@click.option("--password", prompt=True, hide_input=True, help="Contraseña de la llave / key password.")
@click.option("--output", "-o", help="Archivo de salida (- para stdout).")
def seal(file: str, cer: str, key: str, password: str, output: str | None) -> None:
    """Sella un CFDI con un CSD (lo que hace un ERP) / seal a CFDI with a CSD."""
    from timbra.cfdi.credentials import Credential, CredentialError
    from timbra.cfdi.seal import sign_xml

    try:
        cred = Credential.load(Path(cer).read_bytes(), Path(key).read_bytes(), password)
    except CredentialError as exc:
        raise click.ClickException(str(exc)) from None
    xml = sign_xml(Path(file).read_bytes(), cred)
    target = output or file
    if target == "-":
        sys.stdout.buffer.write(xml)
    else:
        Path(target).write_bytes(xml)
        click.echo(f"sellado con {cred.certificate.no_certificado} ({cred.certificate.rfc}) -> {target}")


@main.group()
def keys() -> None:
    """Certificados del sandbox / sandbox certificates."""


@keys.command("sandbox")
@click.option("--force", is_flag=True, help="Reemplazar los existentes / replace existing keys.")
@click.option("--json", "as_json", is_flag=True)
def keys_sandbox(force: bool, as_json: bool) -> None:
    """Crea la AC del sandbox, el certificado del PAC y CSD de demostración."""
    from timbra.sat.sandbox_ca import create_sandbox_keys

    s = _settings()
    manifest = create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_key_password, force=force)
    if as_json:
        click.echo(json.dumps({"dir": str(s.keys_dir), **manifest}, ensure_ascii=False, indent=2))
        return
    click.echo(f"Sandbox en {s.keys_dir} (sin validez fiscal / no fiscal validity)")
    pac = manifest["pac"]
    click.echo(f"  PAC   {pac['rfc']:<14} NoCertificado {pac['no_certificado']}  {pac['cer']}")
    for c in manifest["csd"]:
        click.echo(f"  CSD   {c['rfc']:<14} NoCertificado {c['no_certificado']}  {c['cer']}  contraseña {c['password']}")


@main.command()
@click.option("--conceptos", default=3, show_default=True)
@click.option("--output", "-o", default=None, help="Carpeta de salida / output folder.")
def demo(conceptos: int, output: str | None) -> None:
    """Crea, sella y timbra una factura de demostración con un CSD del sandbox."""
    from timbra.cfdi.credentials import Credential
    from timbra.cfdi.sample import sealed_sample
    from timbra.pac.stamping import stamper_from_settings

    s = _settings()
    stamper = stamper_from_settings(s)
    from timbra.sat.sandbox_ca import create_sandbox_keys

    manifest = create_sandbox_keys(s.keys_dir, pac_rfc=s.pac_rfc, password=s.pac_key_password)
    c = manifest["csd"][0]
    cred = Credential.load((s.keys_dir / c["cer"]).read_bytes(), (s.keys_dir / c["key"]).read_bytes(), c["password"])
    xml = sealed_sample(cred, SYSTEM.now(), conceptos=conceptos)
    result = stamper.stamp(xml)
    folder = Path(output) if output else s.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "factura.xml").write_bytes(xml)
    (folder / f"{result.uuid}.xml").write_bytes(result.xml)
    click.echo(f"Factura sellada: {folder / 'factura.xml'}")
    click.echo(f"Timbrada: UUID {result.uuid} -> {folder / (result.uuid + '.xml')}")


# --- operator commands: database, accounts, users, credits, API keys -----------------------------------
# The operator at the terminal acts as the PAC admin (SYSTEM_PRINCIPAL), or as one account where timbra.pac
# asks for that account's own principal (a distributor's transfer, an account's API keys). Every rule lives
# in timbra.pac; these commands only turn arguments into calls and results into text or one JSON document.

_JSON_HELP = "Salida JSON (un documento) / JSON output (one document)."


def _reports_errors(command: Callable[..., None]) -> Callable[..., None]:
    """A TimbraError becomes exit status 1 with its code: on stderr as text, or as JSON on stdout (--json)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except TimbraError as exc:
            if kwargs.get("as_json"):
                click.echo(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2))
            else:
                detail = f" {json.dumps(exc.detail, ensure_ascii=False)}" if exc.detail else ""
                click.echo(f"{exc.code} {exc.message}{detail}", err=True)
            sys.exit(1)

    return run


def _emit(as_json: bool, payload: dict[str, Any], lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


@contextmanager
def _database(*, upgrade: bool = True) -> Iterator[Database]:
    """The configured database, migrated to head first (an operator's first command may find it empty)."""
    from timbra.store.db import Database

    db = Database(_settings().database_url)
    try:
        if upgrade:
            db.upgrade()
        yield db
    finally:
        db.dispose()


def _services(db: Database) -> tuple[Accounts, Credits]:
    from timbra.pac.accounts import Accounts
    from timbra.pac.credits import Credits

    accounts = Accounts(db)
    return accounts, Credits(db, accounts)


def _acting_as(accounts: Accounts, account_id: int) -> Principal:
    """The principal of an account, for operations timbra.pac only lets an account do for itself."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL, Principal

    account, _ = accounts.get(SYSTEM_PRINCIPAL, account_id)  # T103 when there is no such account
    return Principal(account_id=account.id, kind=account.kind)


def _operator_datetime(value: str | None, option: str) -> datetime | None:
    """ISO 8601 from the command line; without an offset it is Mexico City time (what operators think in)."""
    from timbra.cfdi.tfd import MEXICO_CITY
    from timbra.codes import error

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise error("T100", message=f"Fecha inválida en {option}: {value!r} (ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=MEXICO_CITY)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _account_dict(account: Account) -> dict[str, Any]:
    return {"id": account.id, "kind": account.kind, "name": account.name, "parent_id": account.parent_id,
            "active": account.active, "created_at": _iso(account.created_at)}


def _user_dict(user: User) -> dict[str, Any]:
    return {"id": user.id, "account_id": user.account_id, "username": user.username, "active": user.active,
            "created_at": _iso(user.created_at)}


def _package_dict(package: Package) -> dict[str, Any]:
    return {"id": package.id, "account_id": package.account_id, "size": package.size, "used": package.used,
            "activation": _iso(package.activation), "expiry": _iso(package.expiry),
            "source_id": package.source_id}


def _key_dict(key: ApiKey) -> dict[str, Any]:
    return {"id": key.id, "account_id": key.account_id, "user_id": key.user_id, "prefix": key.prefix,
            "name": key.name, "created_at": _iso(key.created_at), "revoked_at": _iso(key.revoked_at)}


def _account_users(db: Database, account_id: int) -> list[User]:
    """Read-only listing for `accounts show`; the caller checked the account exists (Accounts.get)."""
    from timbra.store import repo

    with db.reader() as s:
        return repo.users(s, account_id)


def _balance_lines(balance: Balance) -> list[str]:
    lines = [f"  Créditos  {balance.available} disponibles"]
    for p in balance.packages:
        state = "vigente" if p.active else "no vigente"
        lines.append(f"    paquete {p.id}: {p.left} de {p.size} ({state}), activación {p.activation.isoformat()}, "
                     f"caducidad {p.expiry.isoformat() if p.expiry else 'ninguna'}")
    return lines


@main.group("db")
def db_group() -> None:
    """Base de datos: migraciones / database migrations (TIMBRA_DATABASE_URL)."""


@db_group.command("upgrade")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def db_upgrade(as_json: bool) -> None:
    """Aplica las migraciones pendientes / apply pending migrations."""
    with _database(upgrade=False) as db:
        previous = db.revision()
        db.upgrade()
        revision = db.revision()
    _emit(as_json, {"revision": revision, "previous": previous},
          [f"Base de datos en la revisión {revision} (antes: {previous or 'vacía'})"])


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def db_current(as_json: bool) -> None:
    """Muestra la revisión actual y la más reciente / show the current and the latest revision."""
    from alembic.script import ScriptDirectory

    from timbra.store.db import alembic_config

    with _database(upgrade=False) as db:
        revision = db.revision()
        head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    state = "al día" if revision == head else "pendiente: timbra db upgrade"
    _emit(as_json, {"revision": revision, "head": head, "up_to_date": revision == head},
          [f"Revisión {revision or 'ninguna'} (más reciente {head}; {state})"])


_NOMBRE_HELP = ("Nombre registrado ante el SAT para el RFC (Emisor@Nombre de lo que timbra emite; por omisión el "
                "del CSD sin régimen de capital) / name SAT registers for the RFC.")
_SHARED_HELP = ("Registrar un RFC que ya tiene otra cuenta (decisión del administrador) / "
                "add an RFC another account holds (the admin's decision).")


@main.group()
def accounts() -> None:
    """Cuentas: administrador, distribuidores y emisores / accounts."""


@accounts.command("create")
@click.option("--kind", required=True, metavar="admin|distributor|emisor", help="Tipo de cuenta / account kind.")
@click.option("--name", required=True, help="Nombre / name.")
@click.option("--parent", "parent_id", type=int, help="Cuenta del distribuidor / distributor account id.")
@click.option("--rfc", "rfcs", multiple=True, help="RFC del emisor (repetible) / emisor RFC (repeatable).")
@click.option("--nombre", help=_NOMBRE_HELP + " Con un solo --rfc / with one --rfc only.")
@click.option("--shared", is_flag=True, help=_SHARED_HELP)
@click.option("--username", help="Primer usuario / first user.")
@click.option("--password", help="Contraseña del usuario (si falta se genera) / user password (generated if absent).")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def accounts_create(kind: str, name: str, parent_id: int | None, rfcs: tuple[str, ...], nombre: str | None,
                    shared: bool, username: str | None, password: str | None, as_json: bool) -> None:
    """Crea una cuenta; una contraseña generada se muestra solo esta vez / create an account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL, RfcEntry

    if password is not None and not username:
        raise click.UsageError("--password requiere --username / --password needs --username")
    if nombre is not None and len(rfcs) != 1:
        raise click.UsageError("--nombre requiere un solo --rfc / --nombre needs exactly one --rfc")
    with _database() as db:
        acc, _ = _services(db)
        new = acc.create_account(SYSTEM_PRINCIPAL, kind=kind, name=name, parent_id=parent_id,
                                 rfcs=[RfcEntry(r, nombre) for r in rfcs], username=username, password=password,
                                 shared=shared)
        account_rfcs = acc.rfcs(new.account.id)
    payload = {**_account_dict(new.account), "rfcs": account_rfcs,
               "user": _user_dict(new.user) if new.user else None, "password": new.password}
    lines = [f"Cuenta {new.account.id} ({new.account.kind}) {new.account.name}"]
    lines += [f"  RFC       {r}" for r in account_rfcs]
    if new.user:
        lines.append(f"  Usuario   {new.user.username}")
    if new.password:
        lines.append(f"  Contraseña generada (se muestra solo esta vez / shown once): {new.password}")
    _emit(as_json, payload, lines)


@accounts.command("add-rfc")
@click.argument("account_id", type=int)
@click.argument("rfc")
@click.option("--nombre", help=_NOMBRE_HELP)
@click.option("--shared", is_flag=True, help=_SHARED_HELP)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def accounts_add_rfc(account_id: int, rfc: str, nombre: str | None, shared: bool, as_json: bool) -> None:
    """Agrega un RFC a una cuenta de emisor (o fija su nombre registrado) / add an RFC to an emisor account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        acc, _ = _services(db)
        acc.add_rfc(SYSTEM_PRINCIPAL, account_id, rfc, nombre=nombre, shared=shared)
        nombres = acc.rfc_nombres(account_id)
    _emit(as_json, {"account_id": account_id, "rfcs": list(nombres), "nombres": nombres},
          [f"Cuenta {account_id}"] + _rfc_lines(nombres))


def _rfc_lines(nombres: dict[str, str | None]) -> list[str]:
    return [f"  RFC       {r}{'  ' + n if n else ''}" for r, n in nombres.items()]


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def accounts_list(as_json: bool) -> None:
    """Lista todas las cuentas / list every account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        found = _services(db)[0].list(SYSTEM_PRINCIPAL)
    lines = [f"{a.id:>6}  {a.kind:<12} {'padre ' + str(a.parent_id) if a.parent_id else '':<12} "
             f"{'' if a.active else '(inactiva) '}{a.name}" for a in found]
    _emit(as_json, {"accounts": [_account_dict(a) for a in found]}, lines)


@accounts.command("show")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def accounts_show(account_id: int, as_json: bool) -> None:
    """Una cuenta con sus RFC, usuarios y créditos / one account with its RFCs, users and balance."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        acc, cred = _services(db)
        account, account_rfcs = acc.get(SYSTEM_PRINCIPAL, account_id)
        nombres = acc.rfc_nombres(account_id)
        users = _account_users(db, account_id)
        balance = cred.balance(SYSTEM_PRINCIPAL, account_id)
    payload = {**_account_dict(account), "rfcs": account_rfcs, "nombres": nombres,
               "users": [_user_dict(u) for u in users], "balance": balance.as_dict()}
    parent = f", distribuidor {account.parent_id}" if account.parent_id else ""
    lines = [f"Cuenta {account.id} ({account.kind}{parent}) {account.name}"
             f"{'' if account.active else ' (inactiva)'}"]
    lines += _rfc_lines(nombres)
    lines += [f"  Usuario   {u.id} {u.username}{'' if u.active else ' (inactivo)'}" for u in users]
    _emit(as_json, payload, lines + _balance_lines(balance))


@main.group()
def users() -> None:
    """Usuarios de una cuenta / users of an account."""


@users.command("add")
@click.argument("account_id", type=int)
@click.argument("username")
@click.option("--password", help="Contraseña (si falta se genera) / password (generated if absent).")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def users_add(account_id: int, username: str, password: str | None, as_json: bool) -> None:
    """Agrega un usuario; una contraseña generada se muestra solo esta vez / add a user."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        user, generated = _services(db)[0].add_user(SYSTEM_PRINCIPAL, account_id, username, password)
    lines = [f"Usuario {user.id} {user.username} en la cuenta {user.account_id}"]
    if generated:
        lines.append(f"  Contraseña generada (se muestra solo esta vez / shown once): {generated}")
    _emit(as_json, {**_user_dict(user), "password": generated}, lines)


@main.group()
def credits() -> None:
    """Créditos: paquetes, transferencias y saldo / credits: packages, transfers and balance."""


@credits.command("add")
@click.argument("account_id", type=int)
@click.argument("size", type=int)
@click.option("--activation", help="Inicio de vigencia, ISO 8601 (sin zona: Ciudad de México) / start.")
@click.option("--expiry", help="Caducidad, ISO 8601 (sin zona: Ciudad de México) / expiry.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def credits_add(account_id: int, size: int, activation: str | None, expiry: str | None, as_json: bool) -> None:
    """Crea un paquete de créditos para una cuenta (venta del PAC) / add a credit package."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    starts = _operator_datetime(activation, "--activation")
    ends = _operator_datetime(expiry, "--expiry")
    with _database() as db:
        package = _services(db)[1].add_package(SYSTEM_PRINCIPAL, account_id, size, activation=starts, expiry=ends)
    _emit(as_json, _package_dict(package),
          [f"Paquete {package.id}: {package.size} créditos para la cuenta {package.account_id}, "
           f"activación {_iso(package.activation)}, caducidad {_iso(package.expiry) or 'ninguna'}"])


@credits.command("transfer")
@click.option("--from", "from_id", type=int, required=True, help="Cuenta del distribuidor / distributor id.")
@click.option("--to", "to_id", type=int, required=True, help="Cuenta del cliente / client id.")
@click.argument("amount", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def credits_transfer(from_id: int, to_id: int, amount: int, as_json: bool) -> None:
    """Un distribuidor asigna créditos a su cliente / a distributor hands credits to its client."""
    with _database() as db:
        acc, cred = _services(db)
        created = cred.transfer(_acting_as(acc, from_id), to_id, amount)
    _emit(as_json, {"from": from_id, "to": to_id, "amount": amount, "packages": [_package_dict(p) for p in created]},
          [f"{amount} créditos de la cuenta {from_id} a la cuenta {to_id} "
           f"(paquetes {', '.join(str(p.id) for p in created)})"])


@credits.command("show")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def credits_show(account_id: int, as_json: bool) -> None:
    """Saldo y paquetes de una cuenta / balance and packages of an account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        balance = _services(db)[1].balance(SYSTEM_PRINCIPAL, account_id)
    _emit(as_json, balance.as_dict(), [f"Cuenta {account_id}"] + _balance_lines(balance))


@main.group()
def apikeys() -> None:
    """Llaves de API / API keys."""


@apikeys.command("create")
@click.argument("username")
@click.option("--name", default="", help="Para qué es la llave / what the key is for.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def apikeys_create(username: str, name: str, as_json: bool) -> None:
    """Crea una llave para un usuario y la muestra una sola vez / create a key, shown once.

    Without --json only the key goes to stdout (KEY=$(timbra apikeys create u)); the rest to stderr."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        made = _services(db)[0].create_key(SYSTEM_PRINCIPAL, name, username=username)
    if as_json:
        _emit(True, {**_key_dict(made.record), "username": username, "key": made.key}, [])
        return
    click.echo(f"Llave {made.record.id} de {username} (cuenta {made.record.account_id}); "
               "se muestra solo esta vez / shown once:", err=True)
    click.echo(made.key)


@apikeys.command("list")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def apikeys_list(account_id: int, as_json: bool) -> None:
    """Llaves de una cuenta (nunca la llave, solo su prefijo) / an account's keys (prefix only)."""
    with _database() as db:
        acc, _ = _services(db)
        found = acc.list_keys(_acting_as(acc, account_id))
    lines = [f"{k.id:>6}  tbk_{k.prefix}_…  usuario {k.user_id}  {k.name or '-'}  "
             f"{'revocada ' + k.revoked_at.isoformat() if k.revoked_at else 'activa'}" for k in found]
    _emit(as_json, {"account_id": account_id, "keys": [_key_dict(k) for k in found]}, lines)


@apikeys.command("revoke")
@click.argument("account_id", type=int)
@click.argument("key_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def apikeys_revoke(account_id: int, key_id: int, as_json: bool) -> None:
    """Revoca una llave de la cuenta / revoke one of the account's keys."""
    with _database() as db:
        acc, _ = _services(db)
        acc.revoke_key(_acting_as(acc, account_id), key_id)
    _emit(as_json, {"id": key_id, "account_id": account_id, "revoked": True},
          [f"Llave {key_id} de la cuenta {account_id} revocada"])


# --- running the service -----------------------------------------------------------------------------

@main.command()
@click.option("--host", default=None, help="Dirección (por omisión TIMBRA_HOST o 127.0.0.1) / bind address.")
@click.option("--port", default=None, type=int, help="Puerto (por omisión TIMBRA_PORT o 8000) / port.")
@click.option("--workers", default=1, show_default=True, help="Procesos / worker processes.")
@click.option("--log-level", default="info", show_default=True)
def serve(host: str | None, port: int | None, workers: int, log_level: str) -> None:
    """Inicia la API REST (OpenAPI en /docs) / start the REST API.

    Aplica las migraciones, crea las llaves del sandbox y, la primera vez, una cuenta de demostración que
    se muestra una sola vez."""
    import os

    from timbra.api.server import serve as run

    if host:
        os.environ["TIMBRA_HOST"] = host  # the worker processes read their settings from the environment
    if port:
        os.environ["TIMBRA_PORT"] = str(port)
    run(_settings(), workers=workers, log_level=log_level)


@main.command()
@click.option("--interval", default=0.5, show_default=True, help="Segundos entre sondeos / poll interval.")
def worker(interval: float) -> None:
    """Entrega al SAT los CFDI timbrados (outbox) / deliver stamped CFDI to SAT.

    Para varios procesos de `timbra serve` con TIMBRA_WORKER_IN_PROCESS=0; se detiene con Ctrl-C."""
    import signal
    import threading

    from timbra.pac.delivery import Worker
    from timbra.pac.runtime import Pac

    pac = Pac(_settings(), worker=False)
    w = Worker(pac.delivery, interval=interval)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    w.start()
    click.echo("timbra worker: entregando CFDI al SAT (sandbox) / delivering to SAT")
    stop.wait()
    w.stop()
    pac.stop()


# --- CSD vault (conexión remota) -------------------------------------------------------------------------

def _vault(db: Database):
    """The vault as `timbra serve` builds it: master keys and trusted CAs from the settings."""
    from timbra.pac.accounts import Accounts
    from timbra.pac.stamping import trust_store
    from timbra.pac.vault import MasterKeyError, MasterKeys, Vault

    s = _settings()
    try:
        keys = MasterKeys.from_settings(s)
    except MasterKeyError as exc:
        raise click.ClickException(str(exc)) from None
    return Vault(db, keys, trust_store(s), accounts=Accounts(db))


def _csd_line(info) -> str:
    state = "ACTIVO" if info.active else ("vencido" if info.expired else "inactivo")
    return (f"{info.id:>6}  {info.rfc:<13}  {info.no_certificado}  vigencia {info.valid_from.date()} a "
            f"{info.valid_to.date()}  {state:<8}  {info.name}")


@main.group()
def csd() -> None:
    """CSD de los emisores para conexión remota / emisores' CSDs for remote issuing."""


@csd.command("upload")
@click.option("--account", "account_id", type=int, required=True, help="Cuenta del emisor / emisor account id.")
@click.option("--cer", type=click.Path(exists=True, dir_okay=False), help="Certificado .cer")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="Llave privada .key")
@click.option("--pfx", type=click.Path(exists=True, dir_okay=False),
              help="Certificado y llave .pfx (en lugar de --cer/--key)")
@click.option("--password", prompt=True, hide_input=True, help="Contraseña de la llave / key password.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def csd_upload(account_id: int, cer: str | None, key: str | None, pfx: str | None, password: str,
               as_json: bool) -> None:
    """Guarda un CSD cifrado en la bóveda; queda activo para su RFC / store a CSD (it becomes active)."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    if not ((pfx and not cer and not key) or (cer and key and not pfx)):
        raise click.UsageError("use --cer y --key, o --pfx / use --cer and --key, or --pfx")
    with _database() as db:
        vault = _vault(db)
        if pfx:
            info = vault.upload_pfx(SYSTEM_PRINCIPAL, Path(pfx).read_bytes(), password, account_id=account_id)
        else:
            info = vault.upload(SYSTEM_PRINCIPAL, Path(cer).read_bytes(), Path(key).read_bytes(), password,
                                account_id=account_id)
    _emit(as_json, info.as_dict(), [f"CSD guardado en la cuenta {account_id}:", _csd_line(info)])


@csd.command("list")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def csd_list(account_id: int, as_json: bool) -> None:
    """CSD de una cuenta (sin llaves) / an account's CSDs (no key material)."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _database() as db:
        found = _vault(db).list(SYSTEM_PRINCIPAL, account_id=account_id)
    _emit(as_json, {"account_id": account_id, "csd": [i.as_dict() for i in found]},
          [_csd_line(i) for i in found] or [f"La cuenta {account_id} no tiene CSD"])


@main.group()
def vault() -> None:
    """Bóveda de CSD: llaves maestras / CSD vault: master keys."""


@vault.command("rotate")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def vault_rotate(as_json: bool) -> None:
    """Vuelve a cifrar cada llave con la llave maestra actual (la primera de TIMBRA_MASTER_KEY) /
    re-encrypt every stored key under the current master key."""
    with _database() as db:
        v = _vault(db)
        rotated = v.rotate()
    _emit(as_json, {"rotated": rotated, "master_key_id": v.keys.current_id},
          [f"{rotated} llave(s) cifrada(s) de nuevo con la llave maestra {v.keys.current_id}"])


# --- issuing from data (conexión remota) -------------------------------------------------------------------

@main.command("issue")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--account", "account_id", type=int, required=True, help="Cuenta del emisor / emisor account id.")
@click.option("--kind", default="factura", show_default=True,
              type=click.Choice(["factura", "pagos", "nomina"]), help="Tipo de CFDI / kind of CFDI.")
@click.option("--referencia", help="Id del ERP: un reintento devuelve el mismo CFDI / the ERP's own id.")
@click.option("--output", "-o", help="Guardar el XML timbrado / write the stamped XML here.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@_reports_errors
def issue_cmd(file: str, account_id: int, kind: str, referencia: str | None, output: str | None,
              as_json: bool) -> None:
    """Emite un CFDI desde un JSON con los nombres del Anexo 20, sellado con el CSD activo de la cuenta.

    Issue a CFDI from JSON data (Anexo 20's names), sealed with the account's active CSD from the vault,
    stamped and stored like POST /v1/issue. Delivery to SAT is left to `timbra serve` or `timbra worker`."""
    from timbra.pac.runtime import Pac

    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"JSON inválido / invalid JSON: {exc}", param_hint="FILE") from exc
    pac = Pac(_settings(), worker=False)
    try:
        result = pac.issuing.issue(_acting_as(pac.accounts, account_id), data, referencia, kind=kind)
    finally:
        pac.stop()
    if output:
        Path(output).write_bytes(result.xml)
    lines = [f"{'Ya emitido' if result.replayed else 'Emitido'}: UUID {result.uuid}  "
             f"FechaTimbrado {result.fecha_timbrado}  créditos restantes {result.credits_left}"]
    if output:
        lines.append(f"XML: {output}")
    _emit(as_json, result.as_dict(), lines)


if __name__ == "__main__":
    main()
