"""Finkok's registration service (/servicios/soap/registration.wsdl): a reseller manages its customers.

A Finkok reseller is a timbra distributor (or the PAC's admin); a customer, named by its RFC (taxpayer_id),
is an emisor account of the distributor with that RFC. In Finkok the reseller stamps for its customers with
its own user; in timbra a distributor does not stamp, so `add` also creates the customer's user (its name
is the RFC, its password generated and shown once in `message`) and stores its CSD in the vault when cer,
key and passphrase come. Credits are prepaid in timbra: type_user (O on demand, P prepaid) is accepted and
every customer is prepaid; `assign` hands credits from the distributor's packages.

Parameters and answers keep Finkok's names (phpcfdi/finkok): reseller_username / reseller_password for
add, edit, get and customers; username / password for assign. Refusals answer success false (where the
answer has it) and the code and message in `message`.
"""
from __future__ import annotations

from timbra.api.soap.common import account_named
from timbra.api.soap.endpoint import Ctx, Endpoint
from timbra.api.soap.finkok import VIEWS
from timbra.api.soap.wsdl import F, Op, Service, T, array
from timbra.codes import error
from timbra.errors import TimbraError
from timbra.pac.accounts import Principal

TNS = "http://facturacion.finkok.com/registration"
PAGE = 50
RESELLER = (F("reseller_username"), F("reseller_password"))

SERVICE = Service(
    name="RegistrationSOAP", dialect="spyne", tns=TNS, types_ns=VIEWS, port_type="Application",
    binding="Application", port="Application", definitions_name="Application",
    ops=(
        Op("add", (*RESELLER, F("taxpayer_id"), F("type_user"), F("cer", "base64Binary"), F("key", "base64Binary"),
                   F("passphrase")), "RegistrationResult"),
        Op("edit", (*RESELLER, F("taxpayer_id"), F("status"), F("cer", "base64Binary"), F("key", "base64Binary"),
                    F("passphrase")), "RegistrationResult"),
        Op("get", (*RESELLER, F("taxpayer_id")), "ResellerUsersResult"),
        Op("assign", (F("username"), F("password"), F("taxpayer_id"), F("credit", "int")), "AssignResult"),
        Op("customers", (*RESELLER, F("page", "int")), "ResellerUsersResult"),
    ),
    types=(
        T("RegistrationResult", (F("success", "boolean"), F("message"))),
        T("AssignResult", (F("success", "boolean"), F("credit", "int"), F("message"))),
        T("ResellerUser", (F("status"), F("counter", "int"), F("taxpayer_id"), F("credit", "int"))),
        array("ResellerUserArray", "ResellerUser"),
        T("ResellerUsersResult", (F("message"), F("users", "ResellerUserArray"))),
    ),
)


def on_error(op: Op, exc: TimbraError) -> dict:
    out = {"message": f"{exc.code} - {exc.message}"}
    if op.result != "ResellerUsersResult":
        out["success"] = False
    return out


async def _reseller(ctx: Ctx, a: dict) -> Principal:
    who = await ctx.login(a["reseller_username"], a["reseller_password"])
    if who.kind not in ("distributor", "admin"):
        raise error("T102", message="Solo un distribuidor (reseller) o el administrador del PAC administra "
                                    "clientes.",
                    message_en="Only a distributor (reseller) or the PAC admin manages customers.")
    return who


def _csd(ctx: Ctx, who: Principal, account_id: int, a: dict) -> None:
    if a["cer"] or a["key"]:
        ctx.pac.vault.upload(who, a["cer"] or b"", a["key"] or b"", a["passphrase"] or "", account_id=account_id)


async def add(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await _reseller(ctx, a)
    rfc = (a["taxpayer_id"] or "").strip().upper()
    if (a["type_user"] or "P").strip().upper() not in ("O", "P"):
        raise error("T100", message="type_user: O o P.", message_en="type_user: O or P.")
    made = await ctx.io(lambda: pac.accounts.create_account(who, kind="emisor", name=rfc, rfcs=[rfc], username=rfc))
    await ctx.io(_csd, ctx, who, made.account.id, a)
    return {"success": True, "message": f"Cliente {rfc} agregado (cuenta {made.account.id}). Usuario {rfc}, "
                                        f"contraseña {made.password} (se muestra solo esta vez)."}


async def edit(ctx: Ctx, a: dict) -> dict:
    """status A (active) or S (suspended); a CSD (cer, key, passphrase) becomes the customer's active one."""
    pac = ctx.pac
    who = await _reseller(ctx, a)
    target = await ctx.io(account_named, pac, who, a["taxpayer_id"] or "")
    status = (a["status"] or "").strip().upper()
    if status not in ("", "A", "S"):
        raise error("T100", message="status: A o S.", message_en="status: A or S.")
    if status:
        await ctx.io(pac.accounts.set_active, who, target, status == "A")
    await ctx.io(_csd, ctx, who, target, a)
    return {"success": True, "message": f"Cliente {(a['taxpayer_id'] or '').strip().upper()} actualizado."}


def _user(ctx: Ctx, who: Principal, acc) -> dict:
    pac = ctx.pac
    balance = pac.credits.balance(who, acc.id)
    rfcs = pac.accounts.rfcs(acc.id)
    return {"status": "A" if acc.active else "S", "counter": sum(p.used for p in balance.packages),
            "taxpayer_id": rfcs[0] if rfcs else None, "credit": balance.available}


async def get(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await _reseller(ctx, a)
    target = await ctx.io(account_named, pac, who, a["taxpayer_id"] or "")
    acc, _ = await ctx.io(pac.accounts.get, who, target)
    return {"message": None, "users": [await ctx.io(_user, ctx, who, acc)]}


async def assign(ctx: Ctx, a: dict) -> dict:
    """credit credits from the distributor's packages to the customer; `credit` answers the customer's balance."""
    pac = ctx.pac
    who = await ctx.login(a["username"], a["password"])
    target = await ctx.io(account_named, pac, who, a["taxpayer_id"] or "")
    await ctx.io(pac.credits.transfer, who, target, a["credit"] or 0)
    balance = await ctx.io(pac.credits.balance, who, target)
    return {"success": True, "credit": balance.available, "message": "Créditos asignados."}


async def customers(ctx: Ctx, a: dict) -> dict:
    pac = ctx.pac
    who = await _reseller(ctx, a)
    accounts = sorted((acc for acc in await ctx.io(pac.accounts.list, who)
                       if acc.kind == "emisor" and acc.id != who.account_id), key=lambda acc: acc.id)
    page = max(1, a["page"] or 1)
    chunk = accounts[(page - 1) * PAGE: page * PAGE]
    users = [await ctx.io(_user, ctx, who, acc) for acc in chunk]
    first = (page - 1) * PAGE + 1 if chunk else 0
    return {"message": f"Showing {first} to {first + len(chunk) - 1 if chunk else 0} of {len(accounts)} entries",
            "users": users}


ENDPOINT = Endpoint(SERVICE, {"add": add, "edit": edit, "get": get, "assign": assign, "customers": customers},
                    on_error)
