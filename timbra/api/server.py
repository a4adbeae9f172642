"""Running the API: `timbra serve` prepares the database (migrations, demo account on first start), then
hands the app factory to uvicorn, one process or several (`--workers`; PostgreSQL for more than one machine)."""
from __future__ import annotations

import click

from timbra.pac.runtime import DemoAccount, Pac
from timbra.settings import Settings


def create_from_env():
    """uvicorn's app factory (each worker process builds its own Pac from the environment)."""
    import gc

    from timbra.api.app import create_app

    pac = Pac(Settings.from_env(), migrate=False)
    pac.certifier.warm()  # the first requests do not pay for loading schemas and catalog indexes
    app = create_app(pac)
    # What a worker loaded to start (catalogs, schemas, the app: hundreds of thousands of objects that live as
    # long as the process) leaves the garbage collector's generations, so its full collections, one every
    # ~150 stamps, no longer walk them (about 4% of a stamp's CPU). New objects are collected as before.
    gc.collect()
    gc.freeze()
    return app


def prepare(settings: Settings) -> DemoAccount | None:
    pac = Pac(settings, worker=False)
    try:
        return pac.ensure_demo(csds=True)
    finally:
        pac.stop()


def print_demo(demo: DemoAccount, base_url: str) -> None:
    click.echo("Cuenta de demostración creada (se muestra solo esta vez) / demo account (shown once):")
    click.echo(f"  usuario / user      {demo.username}")
    click.echo(f"  contraseña          {demo.password}")
    click.echo(f"  API key             {demo.api_key}")
    click.echo(f"  créditos / credits  {demo.credits}")
    click.echo(f"  RFC                 {', '.join(demo.rfcs)}")
    click.echo(f"  administrador       {demo.admin_username} / {demo.admin_password}")
    if demo.csds:
        click.echo(f"  CSD en la bóveda    {', '.join(demo.csds)}  (timbra issue factura.json --account "
                   f"{demo.account_id})")
    click.echo(f"  Prueba / try:  curl -H 'X-API-Key: {demo.api_key}' {base_url}/v1/credits")


def serve(settings: Settings, *, workers: int = 1, log_level: str = "info") -> None:
    import uvicorn

    from timbra.pac import production

    production.check(settings)  # outside the sandbox: no sandbox certificate, master key or demo account
    demo = prepare(settings)
    base = f"http://{settings.host}:{settings.port}"
    if demo is not None:
        print_demo(demo, base)
    click.echo(f"timbra escuchando en {base}  (portal: {base}/  OpenAPI: {base}/docs)  "
               f"base de datos: {_safe(settings.database_url)}"
               f"  datos / data: {settings.data_dir}")
    if workers > 1:
        _shared_metrics(settings)
    uvicorn.run("timbra.api.server:create_from_env", factory=True, host=settings.host, port=settings.port,
                workers=workers, log_level=log_level, access_log=False, proxy_headers=_behind_proxy(),
                log_config=log_config(log_level, settings.log_format))


def _behind_proxy() -> bool:
    """X-Forwarded-For/-Proto are believed only from the reverse proxies named in FORWARDED_ALLOW_IPS (uvicorn's
    own variable, e.g. 127.0.0.1): then the client's address (login throttle, the public lookup's limit, logs)
    and https in the WSDLs' soap:address are the real ones. Unset: the headers are ignored (timbra exposed
    directly must not let a client choose its address)."""
    import os

    return bool(os.environ.get("FORWARDED_ALLOW_IPS", "").strip())


def _shared_metrics(settings: Settings) -> None:
    """Several worker processes share their Prometheus counters through files in one folder (emptied at
    start: the counters restart with the server, as Prometheus expects)."""
    import os
    import shutil

    folder = settings.data_dir / "prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def log_config(log_level: str, log_format: str = "text") -> dict:
    """uvicorn's logging, plus timbra's loggers (timbra.access: one line per request) on the same output,
    every timbra line with its request id; `json`: one JSON object per line."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": "timbra.api.ops.RequestIdFilter"}}
    if log_format == "json":
        config["formatters"]["timbra"] = {"()": "pythonjsonlogger.json.JsonFormatter",
                                          "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                                          "rename_fields": {"asctime": "time", "levelname": "level",
                                                            "name": "logger"}}
    else:
        config["formatters"]["timbra"] = {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] "
                                                    "%(message)s"}
    config["handlers"]["timbra"] = {"class": "logging.StreamHandler", "formatter": "timbra",
                                    "filters": ["request_id"], "stream": "ext://sys.stderr"}
    config["loggers"]["timbra"] = {"handlers": ["timbra"], "level": log_level.upper(), "propagate": False}
    return config


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
