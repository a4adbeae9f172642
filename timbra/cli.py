"""timbra's command line: validate, seal and stamp CFDI, and manage sandbox keys.

Only translation lives here: arguments in, calls into timbra.cfdi / timbra.pac, text or JSON out.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from timbra import __version__
from timbra.clock import SYSTEM, Clock, FixedClock
from timbra.errors import TimbraError
from timbra.settings import Settings

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
    from timbra.pac.stamping import trust_store

    s = _settings()
    clock = _clock(at)
    opts = Options(trust=trust_store(s), now=clock.now(), stamp_window_hours=s.stamp_window_hours,
                   future_tolerance_seconds=s.future_tolerance_seconds, allow_cfdi33=s.allow_cfdi33,
                   max_bytes=s.max_document_bytes)
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


if __name__ == "__main__":
    main()
