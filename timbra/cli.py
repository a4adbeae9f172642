"""timbra's command line: validate, seal and stamp CFDI, and manage sandbox keys.

Only translation lives here: arguments in, calls into timbra.cfdi / timbra.pac, text or JSON out.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from timbra import __version__
from timbra.clock import SYSTEM, Clock, FixedClock
from timbra.codes import CODES
from timbra.errors import TimbraError
from timbra.settings import Settings

if TYPE_CHECKING:  # the operator commands import these lazily: `timbra validate` needs no database
    from timbra.pac.accounts import Accounts, Principal
    from timbra.pac.credits import Balance, Credits
    from timbra.pac.runtime import Operator
    from timbra.store.models import Account, ApiKey, Package, User

PROGRESS_THRESHOLD = 50


# --- errors: one line with a code; exit 2 for usage or configuration, 1 when timbra refused ---------------
# Every command of the `timbra` group gets this (TimbraGroup / TimbraCommand): a TimbraError, a bad master key,
# a file that cannot be read, an XML that cannot be parsed and click's usage errors become one line
# `error <code>: <mensaje> / <message>` on stderr (with --json the error's JSON document on stdout); anything
# else is T900 (`timbra --traceback ...` shows the Python traceback).

# Codes that mean the command or the installation is wrong, not the document or the operation: exit 2.
USAGE_CODES = frozenset({"T100", "T170", "T171", "T172", "T173", "T221", "T222", "T223"})


def exit_status(code: str) -> int:
    return 2 if code in USAGE_CODES else 1


def _coded(code: str, es: str | None = None, en: str | None = None) -> TimbraError:
    """A TimbraError of the code table with its texts, each followed by a specific detail."""
    c = CODES[code]
    return TimbraError(code, f"{c.es} {es}" if es else c.es, source=c.source,
                       message_en=f"{c.en} {en if en is not None else es}".strip() if es else c.en)


def error_line(exc: TimbraError) -> str:
    text = f"error {exc.code}: {exc.message}"
    if exc.message_en and exc.message_en != exc.message:
        text += f" / {exc.message_en}"
    if exc.detail:
        text += f" {json.dumps(exc.detail, ensure_ascii=False)}"
    return " ".join(text.split())


def _as_timbra_error(exc: Exception) -> TimbraError:
    from lxml import etree

    from timbra.pac.vault import MasterKeyError

    if isinstance(exc, TimbraError):
        return exc
    if isinstance(exc, MasterKeyError):
        return _coded("T172", f"({exc})", "")
    if isinstance(exc, etree.XMLSyntaxError):
        from timbra.cfdi.xmlerrors import syntax_error

        e = syntax_error(exc)  # never libxml2's own words
        return _coded("301", f"({e.es})", f"({e.en})")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return _coded("T100", f"{where}{exc.strerror or exc}")
    return _coded("T900", f"({type(exc).__name__}: {exc}; timbra --traceback ... muestra el detalle / shows "
                          "the detail)")


def _report(exc: TimbraError, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps(exc.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(error_line(exc), err=True)
        for f in exc.findings:
            click.echo(f"  {f}", err=True)
    sys.exit(exit_status(exc.code))


class _ReportsErrors:
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.find_root().params.get("traceback"):
                raise
            _report(_as_timbra_error(exc), bool(ctx.params.get("as_json")))


class TimbraCommand(_ReportsErrors, click.Command):
    pass


class TimbraGroup(_ReportsErrors, click.Group):
    command_class = TimbraCommand
    group_class = type  # subgroups are TimbraGroups too

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """click's usage errors as one coded line too (exit 2), instead of click's usage block."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:
            click.echo("Cancelado / aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (ayuda / help: {ctx.command_path} --help)" if ctx is not None else ""
            message = " ".join(exc.format_message().split())
            click.echo(f"error T100: Uso inválido / invalid usage: {message}{hint}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


def _settings() -> Settings:
    """The settings. Says on stderr (once per command) which data directory is used, unless TIMBRA_DATA_DIR
    names it with an absolute path (then the caller knows, and scripts get no extra line)."""
    import os

    s = Settings.from_env()
    ctx = click.get_current_context(silent=True)
    meta = ctx.find_root().meta if ctx is not None else {}
    explicit = s.data_dir_source == "TIMBRA_DATA_DIR" and os.path.isabs(os.environ.get("TIMBRA_DATA_DIR", ""))
    if not explicit and not meta.get("timbra.data_dir_said"):
        meta["timbra.data_dir_said"] = True
        click.echo(f"timbra: datos en / data directory: {s.data_dir} ({s.data_dir_source})", err=True)
    return s


def _clock(at: str | None) -> Clock:
    if not at:
        return SYSTEM
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise _coded("T100", f"--at {at!r} no es una fecha ISO 8601 (p. ej. 2022-01-03T12:00:00).",
                     f"--at {at!r} is not an ISO 8601 date (e.g. 2022-01-03T12:00:00).") from None
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


@click.group(cls=TimbraGroup)
@click.version_option(__version__, prog_name="timbra")
@click.option("--traceback", is_flag=True, help="Mostrar el traceback de un error interno / show internal errors' "
                                                 "Python traceback.")
def main(traceback: bool) -> None:
    """timbra: PAC de código abierto para CFDI / open-source PAC for Mexico's CFDI."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Salida JSON (una línea por archivo) / JSON lines output.")
@click.option("--at", help="Validar como si fuera este momento (ISO 8601) / validate as of this time.")
@click.option("--quiet", "-q", is_flag=True, help="Solo archivos con hallazgos / only files with findings.")
def validate(paths: tuple[str, ...], as_json: bool, at: str | None, quiet: bool) -> None:
    """Valida CFDI (archivos o carpetas) y muestra cada hallazgo / validate CFDI files or folders.

    Exit status 1 when any file has a finding."""
    from timbra.cfdi.validate import validate as validate_bytes
    from timbra.pac.stamping import options_from_settings

    opts = options_from_settings(_settings(), _clock(at).now())  # the stamp path's trust, padrón and limits
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
            _print_file(out, path, result.findings, None, as_json, result.not_evaluated)

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


def _print_file(out, path: Path, findings, error: str | None, as_json: bool, not_evaluated=()) -> None:
    if as_json:
        payload = {"file": str(path), "ok": not findings and error is None,
                   "findings": [f.as_dict() for f in findings or []]}
        if not_evaluated:
            payload["not_evaluated"] = [n.as_dict() for n in not_evaluated]
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
    for n in not_evaluated:
        out.write(f"  no evaluado / not checked: {n.reason}\n")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", help="Archivo de salida (- para stdout) / output file (- for stdout).")
@click.option("--json", "as_json", is_flag=True, help="Resumen JSON / JSON summary.")
def stamp(file: str, output: str | None, as_json: bool) -> None:
    """Timbra un CFDI sellado, solo en el sandbox: sin validez fiscal, no se guarda ni cobra (cada corrida da
    otro UUID). Para timbrar de verdad: POST /v1/stamp / stamp a sealed CFDI, sandbox only: no fiscal
    validity, nothing stored (every run gives another UUID); real stamps go through POST /v1/stamp."""
    from timbra.codes import error
    from timbra.pac.stamping import certifier_from_settings

    s = _settings()
    if not s.sandbox:
        raise error("T173")
    certifier = certifier_from_settings(s)
    try:
        result = certifier.stamp(Path(file).read_bytes())
    except TimbraError as exc:
        if as_json:  # one line, as before (the central report indents its JSON)
            click.echo(json.dumps(exc.as_dict(), ensure_ascii=False))
            sys.exit(exit_status(exc.code))
        raise
    target = output or str(Path(file).with_name(Path(file).stem + "_timbrado.xml"))
    if target == "-":
        sys.stdout.buffer.write(result.xml)
    else:
        Path(target).write_bytes(result.xml)
    summary = {"uuid": result.uuid, "fecha_timbrado": result.fecha_timbrado,
               "no_certificado_sat": result.timbre.no_certificado_sat, "output": target,
               "sandbox": True, "stored": False}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False), err=target == "-")
    else:
        click.echo(f"UUID {result.uuid}  FechaTimbrado {result.fecha_timbrado}  -> {target}", err=target == "-")
        click.echo(_SANDBOX_NOTE, err=True)


_SANDBOX_NOTE = ("sandbox, sin validez fiscal, no se guarda (timbrar de nuevo da otro UUID) / sandbox, no fiscal "
                 "validity, not stored (stamping again gives another UUID)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--cer", required=True, type=click.Path(exists=True, dir_okay=False), help="CSD .cer")
@click.option("--key", required=True, type=click.Path(exists=True, dir_okay=False), help="CSD .key")
@click.option("--password", prompt=True, hide_input=True, help="Contraseña de la llave / key password.")
@click.option("--output", "-o", help="Archivo de salida (- para stdout).")
def seal(file: str, cer: str, key: str, password: str, output: str | None) -> None:
    """Sella un CFDI con un CSD (lo que hace un ERP) / seal a CFDI with a CSD."""
    from timbra.cfdi.credentials import Certificate, Credential, CredentialError
    from timbra.cfdi.seal import sign_xml

    try:
        Certificate.from_bytes(Path(cer).read_bytes())
    except CredentialError as exc:
        raise _coded("T120", f"({exc})") from None
    try:
        cred = Credential.load(Path(cer).read_bytes(), Path(key).read_bytes(), password)
    except CredentialError as exc:
        raise _coded("T125", f"({exc})") from None
    try:
        xml = sign_xml(Path(file).read_bytes(), cred)
    except (ValueError, LookupError, TypeError):  # well-formed XML that is not a CFDI to seal
        raise _coded("301", f"({file}: no es un cfdi:Comprobante con Version 4.0 o 3.3)",
                     f"({file}: not a cfdi:Comprobante with Version 4.0 or 3.3)") from None
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
    from timbra.pac.runtime import sandbox_keys

    s = _settings()
    manifest = sandbox_keys(s, force=force)
    if as_json:
        click.echo(json.dumps({"dir": str(s.keys_dir), **manifest}, ensure_ascii=False, indent=2))
        return
    click.echo(f"Sandbox en {s.keys_dir} (sin validez fiscal / no fiscal validity)")
    pac = manifest["pac"]
    click.echo(f"  PAC   {pac['rfc']:<14} NoCertificado {pac['no_certificado']}  {pac['cer']}")
    for c in manifest["csd"]:
        click.echo(f"  CSD   {c['rfc']:<14} NoCertificado {c['no_certificado']}  {c['cer']}  "
                   f"contraseña {c['password']}")


@main.command()
@click.option("--conceptos", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--output", "-o", default=None, help="Carpeta de salida / output folder.")
def demo(conceptos: int, output: str | None) -> None:
    """Crea, sella y timbra una factura de demostración con un CSD del sandbox (no se guarda)."""
    from timbra.cfdi.credentials import Credential
    from timbra.cfdi.sample import sealed_sample
    from timbra.codes import error
    from timbra.pac.stamping import certifier_from_settings

    s = _settings()
    if not s.sandbox:
        raise error("T173")
    certifier = certifier_from_settings(s)
    from timbra.pac.runtime import sandbox_keys

    manifest = sandbox_keys(s)
    c = manifest["csd"][0]
    cred = Credential.load((s.keys_dir / c["cer"]).read_bytes(), (s.keys_dir / c["key"]).read_bytes(), c["password"])
    xml = sealed_sample(cred, SYSTEM.now(), conceptos=conceptos)
    result = certifier.stamp(xml)
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


def _emit(as_json: bool, payload: dict[str, Any], lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


def _operator(*, upgrade: bool = True) -> Operator:
    """The PAC's operator services on the configured database, migrated to head first (an operator's first
    command may find it empty). Use it in a `with` block."""
    from timbra.pac.runtime import Operator

    return Operator(_settings(), upgrade=upgrade)


def _services(op: Operator) -> tuple[Accounts, Credits]:
    return op.accounts, op.credits


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
        raise error("T100", message=f"Fecha inválida en {option}: {value!r} (ISO 8601)",
                    message_en=f"Invalid date in {option}: {value!r} (ISO 8601)") from None
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
def db_upgrade(as_json: bool) -> None:
    """Aplica las migraciones pendientes / apply pending migrations."""
    with _operator(upgrade=False) as op:
        previous = op.revision()
        op.upgrade()
        revision = op.revision()
    _emit(as_json, {"revision": revision, "previous": previous},
          [f"Base de datos en la revisión {revision} (antes: {previous or 'vacía'})"])


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def db_current(as_json: bool) -> None:
    """Muestra la revisión actual y la más reciente / show the current and the latest revision."""
    with _operator(upgrade=False) as op:
        revision, head = op.revision(), op.head()
    state = "al día" if revision == head else "pendiente: timbra db upgrade"
    _emit(as_json, {"revision": revision, "head": head, "up_to_date": revision == head},
          [f"Revisión {revision or 'ninguna'} (más reciente {head}; {state})"])


@db_group.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def db_backup(dest: str, as_json: bool) -> None:
    """Copia de seguridad en la carpeta DEST (nueva o vacía): la base de datos (SQLite en línea, o pg_dump) y
    las llaves del directorio de datos. Guárdela como un secreto.

    Back up into DEST (new or empty): the database (SQLite's online backup, or pg_dump) and the data
    directory's keys. It holds the vault's encrypted keys: keep it secret."""
    with _operator() as op:
        manifest = op.backup(Path(dest))
    _emit(as_json, manifest, [f"Copia en {dest}: {', '.join(manifest['files'])} (revisión {manifest['revision']})"])


@db_group.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Reemplazar una base SQLite existente / replace an existing SQLite file.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def db_restore(source: str, force: bool, as_json: bool) -> None:
    """Restaura una copia de `timbra db backup` en la base configurada y la migra a esta versión (detenga
    `timbra serve` antes) / restore a backup into the configured database and migrate it (stop the server)."""
    with _operator(upgrade=False) as op:
        manifest = op.restore(Path(source), force=force)
        revision = op.revision()
    _emit(as_json, {**manifest, "restored_revision": revision},
          [f"Restaurada la copia del {manifest['created_at']} (revisión actual {revision})"])


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
def accounts_create(kind: str, name: str, parent_id: int | None, rfcs: tuple[str, ...], nombre: str | None,
                    shared: bool, username: str | None, password: str | None, as_json: bool) -> None:
    """Crea una cuenta; una contraseña generada se muestra solo esta vez / create an account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL, RfcEntry

    if password is not None and not username:
        raise click.UsageError("--password requiere --username / --password needs --username")
    if nombre is not None and len(rfcs) != 1:
        raise click.UsageError("--nombre requiere un solo --rfc / --nombre needs exactly one --rfc")
    with _operator() as op:
        acc, _ = _services(op)
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
def accounts_add_rfc(account_id: int, rfc: str, nombre: str | None, shared: bool, as_json: bool) -> None:
    """Agrega un RFC a una cuenta de emisor (o fija su nombre registrado) / add an RFC to an emisor account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        acc, _ = _services(op)
        acc.add_rfc(SYSTEM_PRINCIPAL, account_id, rfc, nombre=nombre, shared=shared)
        nombres = acc.rfc_nombres(account_id)
    _emit(as_json, {"account_id": account_id, "rfcs": list(nombres), "nombres": nombres},
          [f"Cuenta {account_id}"] + _rfc_lines(nombres))


def _rfc_lines(nombres: dict[str, str | None]) -> list[str]:
    return [f"  RFC       {r}{'  ' + n if n else ''}" for r, n in nombres.items()]


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def accounts_list(as_json: bool) -> None:
    """Lista todas las cuentas / list every account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        found = _services(op)[0].list(SYSTEM_PRINCIPAL)
    lines = [f"{a.id:>6}  {a.kind:<12} {'padre ' + str(a.parent_id) if a.parent_id else '':<12} "
             f"{'' if a.active else '(inactiva) '}{a.name}" for a in found]
    _emit(as_json, {"accounts": [_account_dict(a) for a in found]}, lines)


@accounts.command("show")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def accounts_show(account_id: int, as_json: bool) -> None:
    """Una cuenta con sus RFC, usuarios y créditos / one account with its RFCs, users and balance."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        acc, cred = _services(op)
        account, account_rfcs = acc.get(SYSTEM_PRINCIPAL, account_id)
        nombres = acc.rfc_nombres(account_id)
        users = op.accounts.users(SYSTEM_PRINCIPAL, account_id)
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
def users_add(account_id: int, username: str, password: str | None, as_json: bool) -> None:
    """Agrega un usuario; una contraseña generada se muestra solo esta vez / add a user."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        user, generated = _services(op)[0].add_user(SYSTEM_PRINCIPAL, account_id, username, password)
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
def credits_add(account_id: int, size: int, activation: str | None, expiry: str | None, as_json: bool) -> None:
    """Crea un paquete de créditos para una cuenta (venta del PAC) / add a credit package."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    starts = _operator_datetime(activation, "--activation")
    ends = _operator_datetime(expiry, "--expiry")
    with _operator() as op:
        package = _services(op)[1].add_package(SYSTEM_PRINCIPAL, account_id, size, activation=starts, expiry=ends)
    _emit(as_json, _package_dict(package),
          [f"Paquete {package.id}: {package.size} créditos para la cuenta {package.account_id}, "
           f"activación {_iso(package.activation)}, caducidad {_iso(package.expiry) or 'ninguna'}"])


@credits.command("transfer")
@click.option("--from", "from_id", type=int, required=True, help="Cuenta del distribuidor / distributor id.")
@click.option("--to", "to_id", type=int, required=True, help="Cuenta del cliente / client id.")
@click.argument("amount", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def credits_transfer(from_id: int, to_id: int, amount: int, as_json: bool) -> None:
    """Un distribuidor asigna créditos a su cliente / a distributor hands credits to its client."""
    with _operator() as op:
        acc, cred = _services(op)
        created = cred.transfer(_acting_as(acc, from_id), to_id, amount)
    _emit(as_json, {"from": from_id, "to": to_id, "amount": amount, "packages": [_package_dict(p) for p in created]},
          [f"{amount} créditos de la cuenta {from_id} a la cuenta {to_id} "
           f"(paquetes {', '.join(str(p.id) for p in created)})"])


@credits.command("show")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def credits_show(account_id: int, as_json: bool) -> None:
    """Saldo y paquetes de una cuenta / balance and packages of an account."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        balance = _services(op)[1].balance(SYSTEM_PRINCIPAL, account_id)
    _emit(as_json, balance.as_dict(), [f"Cuenta {account_id}"] + _balance_lines(balance))


@main.group()
def apikeys() -> None:
    """Llaves de API / API keys."""


@apikeys.command("create")
@click.argument("username")
@click.option("--name", default="", help="Para qué es la llave / what the key is for.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def apikeys_create(username: str, name: str, as_json: bool) -> None:
    """Crea una llave para un usuario y la muestra una sola vez / create a key, shown once.

    Without --json only the key goes to stdout (KEY=$(timbra apikeys create u)); the rest to stderr."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        made = _services(op)[0].create_key(SYSTEM_PRINCIPAL, name, username=username)
    if as_json:
        _emit(True, {**_key_dict(made.record), "username": username, "key": made.key}, [])
        return
    click.echo(f"Llave {made.record.id} de {username} (cuenta {made.record.account_id}); "
               "se muestra solo esta vez / shown once:", err=True)
    click.echo(made.key)


@apikeys.command("list")
@click.argument("account_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def apikeys_list(account_id: int, as_json: bool) -> None:
    """Llaves de una cuenta (nunca la llave, solo su prefijo) / an account's keys (prefix only)."""
    with _operator() as op:
        acc, _ = _services(op)
        found = acc.list_keys(_acting_as(acc, account_id))
    lines = [f"{k.id:>6}  tbk_{k.prefix}_…  usuario {k.user_id}  {k.name or '-'}  "
             f"{'revocada ' + k.revoked_at.isoformat() if k.revoked_at else 'activa'}" for k in found]
    _emit(as_json, {"account_id": account_id, "keys": [_key_dict(k) for k in found]}, lines)


@apikeys.command("revoke")
@click.argument("account_id", type=int)
@click.argument("key_id", type=int)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def apikeys_revoke(account_id: int, key_id: int, as_json: bool) -> None:
    """Revoca una llave de la cuenta / revoke one of the account's keys."""
    with _operator() as op:
        acc, _ = _services(op)
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
    """Entrega al SAT los CFDI timbrados y sigue las cancelaciones (outbox) / deliver stamped CFDI to SAT and
    follow cancellations.

    Para varios procesos de `timbra serve` con TIMBRA_WORKER_IN_PROCESS=0; se detiene con Ctrl-C."""
    import signal
    import threading

    from timbra.pac.delivery import Worker
    from timbra.pac.runtime import Pac

    pac = Pac(_settings(), worker=False)
    w = Worker(pac.outbox, interval=interval)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    w.start()
    click.echo("timbra worker: entregando CFDI al SAT (sandbox) / delivering to SAT")
    stop.wait()
    w.stop()
    pac.stop()


# --- CSD vault (conexión remota) -------------------------------------------------------------------------

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
def csd_upload(account_id: int, cer: str | None, key: str | None, pfx: str | None, password: str,
               as_json: bool) -> None:
    """Guarda un CSD cifrado en la bóveda; queda activo para su RFC / store a CSD (it becomes active)."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    if not ((pfx and not cer and not key) or (cer and key and not pfx)):
        raise click.UsageError("use --cer y --key, o --pfx / use --cer and --key, or --pfx")
    with _operator() as op:
        vault = op.vault
        if pfx:
            info = vault.upload_pfx(SYSTEM_PRINCIPAL, Path(pfx).read_bytes(), password, account_id=account_id)
        else:
            info = vault.upload(SYSTEM_PRINCIPAL, Path(cer).read_bytes(), Path(key).read_bytes(), password,
                                account_id=account_id)
    _emit(as_json, info.as_dict(), [f"CSD guardado en la cuenta {account_id}:", _csd_line(info)])


@csd.command("list")
@click.option("--account", "account_id", type=int, required=True, help="Cuenta del emisor / emisor account id.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def csd_list(account_id: int, as_json: bool) -> None:
    """CSD de una cuenta (sin llaves) / an account's CSDs (no key material)."""
    from timbra.pac.accounts import SYSTEM_PRINCIPAL

    with _operator() as op:
        found = op.vault.list(SYSTEM_PRINCIPAL, account_id=account_id)
    _emit(as_json, {"account_id": account_id, "csd": [i.as_dict() for i in found]},
          [_csd_line(i) for i in found] or [f"La cuenta {account_id} no tiene CSD"])


@main.group()
def vault() -> None:
    """Bóveda de CSD: llaves maestras / CSD vault: master keys."""


@vault.command("rotate")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def vault_rotate(as_json: bool) -> None:
    """Vuelve a cifrar cada llave con la llave maestra actual (la primera de TIMBRA_MASTER_KEY) /
    re-encrypt every stored key under the current master key."""
    with _operator() as op:
        v = op.vault
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


# --- cancel and status ----------------------------------------------------------------------------------------

@main.command("cancel")
@click.argument("uuids", nargs=-1)
@click.option("--account", "account_id", required=True, type=int, help="Cuenta del emisor / emisor account id.")
@click.option("--motivo", type=click.Choice(["01", "02", "03", "04"]), help="c_Motivo de cancelación.")
@click.option("--sustitucion", help="Con motivo 01: UUID del CFDI que sustituye / replacing CFDI's UUID.")
@click.option("--cer", type=click.Path(exists=True, dir_okay=False), help="CSD .cer (si no, el del vault).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="CSD .key")
@click.option("--pfx", type=click.Path(exists=True, dir_okay=False), help="CSD .pfx")
@click.option("--password", help="Contraseña de la llave / key password.")
@click.option("--signed", type=click.Path(exists=True, dir_okay=False),
              help="Una solicitud Cancelacion ya firmada (XML) / an already signed Cancelacion.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def cancel_cmd(uuids: tuple[str, ...], account_id: int, motivo: str | None, sustitucion: str | None,
               cer: str | None, key: str | None, pfx: str | None, password: str | None, signed: str | None,
               as_json: bool) -> None:
    """Cancela CFDI de la cuenta por UUID (hasta 500) como POST /v1/cancel: firma con el CSD del vault, con
    --cer/--key o --pfx (no se guardan), o envía --signed tal cual.

    Cancel the account's CFDI by UUID (up to 500) like POST /v1/cancel. Prints SAT's code per UUID (201
    accepted) and timbra's status (cancelado, or en_proceso while the receptor decides)."""
    from timbra.cfdi.cancellation import Folio
    from timbra.pac.cancelling import Signing
    from timbra.pac.runtime import Pac

    if bool(signed) == bool(uuids):
        raise click.UsageError("Indique UUIDs o --signed / give UUIDs or --signed.")
    pac = Pac(_settings(), worker=False)
    try:
        who = _acting_as(pac.accounts, account_id)
        if signed:
            result = pac.cancels.cancel_signed(who, Path(signed).read_bytes())
        else:
            if not motivo:
                raise click.UsageError("--motivo es obligatorio / --motivo is required.")
            signing = Signing()
            if cer or key or pfx:
                signing = Signing(pac.vault.one_time(
                    who, cer=Path(cer).read_bytes() if cer else None, key=Path(key).read_bytes() if key else None,
                    pfx=Path(pfx).read_bytes() if pfx else None,
                    password=password if password is not None else click.prompt("Contraseña", hide_input=True)))
            result = pac.cancels.cancel(who, [Folio(u, motivo, sustitucion) for u in uuids], signing)
    finally:
        pac.stop()
    lines = [f"{f.uuid}  {f.code}  {f.status:<10}  {f.estatus_cancelacion or '-'}  {f.message}"
             + ("  (ya solicitado / replayed)" if f.replayed else "") for f in result.folios]
    _emit(as_json, result.as_dict(), lines)


@main.command("status")
@click.argument("uuid", required=False)
@click.option("--account", "account_id", type=int, help="Cuenta dueña del CFDI / account holding the CFDI.")
@click.option("--expresion", help="URL del QR o ?id=&re=&rr=&tt= / the QR's expression.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def status_cmd(uuid: str | None, account_id: int | None, expresion: str | None, as_json: bool) -> None:
    """Estado de un CFDI en el SAT (ConsultaCFDIService): por UUID de una cuenta o por la expresión del QR.

    A CFDI's status at SAT: Estado, EsCancelable, EstatusCancelacion and ValidacionEFOS, by the UUID of one of
    an account's CFDI (--account) or by the QR expression (--expresion)."""
    from timbra.pac.runtime import Pac

    if bool(expresion) == bool(uuid) or (uuid and account_id is None):
        raise click.UsageError("Indique UUID y --account, o --expresion / give UUID and --account, or --expresion.")
    pac = Pac(_settings(), worker=False)
    try:
        if expresion:
            st = pac.cancels.status_by_expression(expresion)
        else:
            assert uuid is not None and account_id is not None
            st = pac.cancels.status(_acting_as(pac.accounts, account_id), uuid)
    finally:
        pac.stop()
    lines = [f"{k}: {st.get(k) or '-'}" for k in ("uuid", "codigo_estatus", "estado", "es_cancelable",
                                                   "estatus_cancelacion", "validacion_efos", "status") if k in st]
    _emit(as_json, st, lines)


# --- verify: a receptor checks a stamped CFDI ----------------------------------------------------------------

_VERIFY_STATUS = {"ok": "OK", "failed": "FALLA", "not_verifiable": "NO VERIFICABLE"}


@main.command("verify")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Salida JSON (una línea por archivo) / JSON lines output.")
def verify_cmd(paths: tuple[str, ...], as_json: bool) -> None:
    """Verifica CFDI timbrados recibidos: Sello, certificado, SelloSAT, estructura y reglas a la fecha del timbre.

    Verify received, stamped CFDI: Sello, certificate, the TFD's SelloSAT against the PAC certificates timbra
    knows, structure and the rules as of FechaTimbrado (no 307). Exit 0 only when every check of every file
    is OK; 1 when something failed or could not be verified."""
    from timbra.cfdi.verify import verify
    from timbra.pac.verify import verify_with_settings

    opts, certs = verify_with_settings(_settings())
    all_ok = True
    for path in _collect(paths):
        try:
            result = verify(path.read_bytes(), opts, certs)
        except OSError as exc:
            all_ok = False
            click.echo(json.dumps({"file": str(path), "verified": False, "error": str(exc)}, ensure_ascii=False)
                       if as_json else f"{path}: ERROR no se pudo leer: {exc}")
            continue
        all_ok = all_ok and result.verified
        if as_json:
            click.echo(json.dumps({"file": str(path), **result.as_dict()}, ensure_ascii=False))
            continue
        head = "VERIFICADO" if result.verified else "NO VERIFICADO"
        click.echo(f"{path}: {head}" + (f" (UUID {result.uuid}, FechaTimbrado {result.fecha_timbrado})"
                                        if result.uuid else ""))
        for check in result.checks:
            click.echo(f"  {check.name:<12} {_VERIFY_STATUS[check.status]}"
                       + (f" ({check.detail})" if check.detail and not check.findings else ""))
            for f in check.findings:
                extras = [x for x in (f"valor={f.value!r}" if f.value is not None else None,
                                      f"esperado={f.expected!r}" if f.expected is not None else None, f.detail) if x]
                click.echo(f"    {f.code:<10} {f.node}: {f.message}" + ("\n               " + "; ".join(extras)
                                                                          if extras else ""))
    sys.exit(0 if all_ok else 1)


@main.command("pdf")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", help="Archivo PDF (- para stdout; por omisión FILE con .pdf) / output PDF.")
@click.option("--cancelado", is_flag=True, help="Marcar como CANCELADO / mark it as cancelled.")
@click.option("--logo", type=click.Path(exists=True, dir_okay=False), help="Logo PNG o JPEG / logo image.")
@click.option("--color", help="Color de acento #RRGGBB / accent colour.")
def pdf_cmd(file: str, output: str | None, cancelado: bool, logo: str | None, color: str | None) -> None:
    """Representación impresa (PDF) de un CFDI 4.0 timbrado, por cualquier PAC / the printed CFDI of any
    stamped CFDI 4.0, whoever stamped it. Sin base de datos / no database needed."""
    from timbra.pac.printing import check_color, normalize_logo
    from timbra.render import Branding, render_pdf

    brand = Branding(normalize_logo(Path(logo).read_bytes()).png if logo else None, check_color(color))
    data = render_pdf(Path(file).read_bytes(), cancelled=cancelado, branding=brand)
    target = output or str(Path(file).with_suffix(".pdf"))
    if target == "-":
        sys.stdout.buffer.write(data)
        return
    Path(target).write_bytes(data)
    click.echo(f"{file} -> {target} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
