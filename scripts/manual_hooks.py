"""MkDocs hooks of the manual (mkdocs.yml `hooks:`): the error-code catalog is written at build time from
timbra/codes.py and SAT's matrices (timbra/sat/matrices.py), so it cannot drift from what clients get.

A page with the marker `<!-- catalog:codes -->`, `<!-- catalog:cancellation -->` or `<!-- catalog:matrices -->`
(or `<!-- catalog:routes -->`, the REST routes; `<!-- catalog:soap -->`, the SOAP operations) gets the table
there. Every code of timbra/codes.py needs its cause and fix in CAUSES (tests/test_manual.py checks it).
"""
from __future__ import annotations

from timbra.codes import _CANCELLATION, _TABLE, Code
from timbra.sat.matrices import MATRICES, matrix

# code -> (causa / cause, cómo corregirlo / how to fix it), Spanish: the manual's readers are Mexican ERP
# programmers and PAC operators (the English text of each code is in the table beside it).
CAUSES: dict[str, tuple[str, str]] = {
    "301": ("El XML no está bien formado o no cumple el esquema XSD del SAT (Anexo 20 o el del complemento).",
            "Revise `findings[].node`: el nodo y el atributo que fallan. Valide con `POST /v1/validate` o "
            "`timbra validate`."),
    "302": ("El Sello no se puede verificar con el certificado del comprobante: la cadena original cambió "
            "después de sellar o se selló con otra llave.",
            "Selle después del último cambio al XML, con la llave del mismo CSD que va en Certificado."),
    "303": ("El RFC del certificado no es el Rfc del Emisor.", "Selle con el CSD del RFC emisor."),
    "304": ("El CSD está revocado o vencido.", "Tramite un CSD nuevo en el SAT (CertiSAT) y selle con él."),
    "305": ("Fecha está fuera de la vigencia del CSD.", "Use un CSD vigente en la fecha de emisión."),
    "306": ("Se selló con la e.firma (FIEL), no con un CSD.", "Selle con el Certificado de Sello Digital."),
    "307": ("El XML ya tiene un TimbreFiscalDigital.",
            "No reenvíe un CFDI timbrado; un reintento del mismo documento en timbra devuelve el primer timbre."),
    "308": ("El certificado no lo emitió una autoridad certificadora del SAT.", "Use un CSD expedido por el SAT."),
    "401": ("Fecha tiene más de 72 horas o es futura.",
            "Genere y selle de nuevo con la Fecha actual (hora local del LugarExpedicion)."),
    "402": ("El RFC emisor no está en la lista de contribuyentes (LCO) del SAT.",
            "Verifique el RFC; un RFC recién inscrito puede tardar en aparecer en la LCO."),
    "403": ("Fecha es anterior a la vigencia de la versión del CFDI.", "Corrija Fecha o la versión."),
    "T001": ("La versión del comprobante no se timbra (p. ej. 3.3 después de su fin de vigencia).",
             "Emita CFDI 4.0."),
    "T100": ("La solicitud no tiene la forma esperada (JSON inválido, parámetro mal formado).",
             "Revise `message` y `findings`; la forma de cada ruta está en /docs (OpenAPI)."),
    "T101": ("Falta la API key o el usuario y contraseña, o son inválidos.",
             "Envíe `X-API-Key: tbk_...` (o `Authorization: Bearer`) o HTTP Basic con usuario y contraseña."),
    "T102": ("Su cuenta no puede hacer esta operación (p. ej. una cuenta emisor en rutas de administración).",
             "Use un usuario de la cuenta correcta (administrador o distribuidor)."),
    "T103": ("La ruta o el recurso (UUID, cuenta, CSD, API key, referencia) no existe o no es de su cuenta.",
             "Revise el identificador; un CFDI solo lo ve la cuenta que lo timbró y sus superiores."),
    "T104": ("La cuenta no tiene créditos vigentes.", "Compre un paquete (su distribuidor o el PAC)."),
    "T105": ("El Rfc del Emisor no está registrado en la cuenta.",
             "Registre el RFC en la cuenta (el PAC o su distribuidor: `POST /v1/accounts/{id}/rfcs`)."),
    "T106": ("La misma Idempotency-Key llegó con otro documento.",
             "Use una llave por documento (p. ej. un hash del XML o su id en el ERP)."),
    "T107": ("El cuerpo o el documento excede el máximo (TIMBRA_MAX_DOCUMENT_BYTES, 20 MiB por omisión).",
             "Reduzca el documento; el límite lo fija el operador del PAC."),
    "T108": ("La ruta existe pero no con ese método HTTP.", "Use el método que indica /docs."),
    "T109": ("Content-Type no admitido.", "Envíe `application/xml` (el XML) o `application/json` ({\"xml\": base64})."),
    "T110": ("El recurso ya existe (usuario, RFC, CSD).", "Use el existente o otro nombre."),
    "T111": ("La contraseña tiene menos de 10 caracteres.", "Elija una contraseña de al menos 10 caracteres."),
    "T112": ("Los paquetes del distribuidor no alcanzan para la venta o transferencia.",
             "Compre créditos al PAC antes de venderlos."),
    "T120": ("El archivo .cer no se puede leer o no es un CSD.", "Suba el .cer del CSD (DER o PEM) tal cual."),
    "T121": ("Se subió la e.firma (FIEL) en lugar del CSD.", "Suba el Certificado de Sello Digital."),
    "T122": ("El RFC del certificado no está en la cuenta.", "Registre el RFC en la cuenta o suba el CSD correcto."),
    "T123": ("El CSD está vencido o aún no es vigente.", "Suba un CSD vigente."),
    "T124": ("La llave .key no es la del certificado .cer.", "Suba el par .cer/.key del mismo CSD."),
    "T125": ("La contraseña de la llave privada es incorrecta o el .key está dañado.",
             "Revise la contraseña del CSD (no la de la e.firma)."),
    "T126": ("El certificado no lo emitió una AC del SAT.", "Use un CSD expedido por el SAT."),
    "T127": ("El RFC no tiene CSD activo en la bóveda de timbra (emisión desde datos, cancelación).",
             "Suba el CSD (`POST /v1/csd`) o envíe uno en la solicitud."),
    "T130": ("Los datos de `/v1/issue` no tienen la forma esperada: `findings[].node` nombra el campo JSON.",
             "Corrija el campo indicado; los ejemplos están en docs/examples/."),
    "T131": ("Con esos datos no se puede construir un CFDI válido (p. ej. catálogos, importes).",
             "Cada `finding` trae el código del SAT y el campo: corríjalo."),
    "T140": ("El RFC ya pertenece a otra cuenta.", "Solo el administrador del PAC puede compartir un RFC."),
    "T150": ("Demasiados intentos fallidos de contraseña desde su dirección o para el usuario.",
             "Espere los segundos de Retry-After; use una API key en integraciones."),
    "T151": ("El servidor está verificando muchas contraseñas a la vez (argon2 es costoso a propósito).",
             "Reintente tras Retry-After o, mejor, use una API key."),
    "T160": ("RegimenFiscalReceptor no es uno de los regímenes del RFC receptor en la lista del SAT.",
             "Pida a su cliente su Constancia de Situación Fiscal y use su régimen."),
    "T161": ("El complemento no está vigente en la fecha del comprobante.", "Use la versión vigente del complemento."),
    "T162": ("Verificación de un CFDI 3.3: una regla de 4.0 sin equivalente en la matriz de 3.3.", "Informativo."),
    "T163": ("El CFDI a verificar no está timbrado.", "Verifique el XML timbrado que le entregaron."),
    "T164": ("El SelloCFD del timbre no es el Sello del comprobante: el XML se alteró.",
             "Pida al emisor el XML original."),
    "T165": ("El certificado del PAC (NoCertificadoSAT) no es uno que timbra conozca.",
             "Verifique en el portal del SAT (verificacfdi.facturaelectronica.sat.gob.mx)."),
    "T166": ("El SelloSAT no corresponde: el timbre se alteró.", "Pida al emisor el XML original."),
    "T167": ("El certificado del PAC no estaba vigente en FechaTimbrado.", "Consulte al emisor y al SAT."),
    "T170": ("Una variable TIMBRA_* tiene un valor inválido.", "El mensaje nombra la variable; corríjala y reinicie."),
    "T171": ("Producción sin TIMBRA_PAC_KEY_PASSWORD.", "Defina la contraseña de la llave del PAC."),
    "T172": ("TIMBRA_MASTER_KEY mal formada.", "Use base64 de 32 bytes, o id:base64 separados por comas."),
    "T173": ("`timbra stamp`/`timbra demo` fuera del sandbox.", "En producción timbre con POST /v1/stamp."),
    "T180": ("La cancelación no trae folios o trae más de 500.", "Envíe de 1 a 500 UUID por solicitud."),
    "T181": ("Un UUID aparece dos veces en la solicitud.", "Quite el repetido."),
    "T182": ("La Cancelacion firmada nombra UUID que no son de la cuenta.", "Firme una solicitud solo con los suyos."),
    "T183": ("El SAT no respondió; la solicitud quedó guardada y timbra la reenviará.",
             "No haga nada: consulte `GET /v1/cfdi/{uuid}/status` más tarde."),
    "T184": ("No hay solicitud de cancelación pendiente de su respuesta para ese UUID.",
             "Consulte `GET /v1/pending`."),
    "T185": ("La solicitud trae más de un medio de firma, o uno incompleto.",
             "Use uno: la bóveda (nada), `csd` {cer, key, password}, `csd` {pfx, password} o el XML firmado."),
    "T190": ("El logo no es PNG ni JPEG en base64.", "Envíe el logo en base64 de un PNG o JPEG."),
    "T191": ("El logo excede 512 KB o 4000 x 4000 píxeles.", "Reduzca la imagen."),
    "T192": ("El color no es #RRGGBB.", "Use p. ej. #1F4E79."),
    "T200": ("El sobre SOAP no se puede leer (no es XML, trae DTD, no tiene operación).",
             "Envíe un Envelope SOAP 1.1 o 1.2 con una operación en el Body; compare con el WSDL."),
    "T201": ("La operación no existe en ese servicio.", "Revise el WSDL del servicio (`?wsdl`)."),
    "T202": ("La operación existe en el WSDL pero timbra aún no la ofrece.", "Vea docs/soap.md."),
    "T203": ("Un parámetro no es del tipo que declara el WSDL (p. ej. texto en un int).",
             "Envíe el tipo del WSDL."),
    "T210": ("Demasiadas consultas públicas desde su dirección.", "Espere los segundos de Retry-After."),
    "T211": ("UUID, RFC emisor y RFC receptor no coinciden con un CFDI.", "Revise los tres datos."),
    "T212": ("El formulario caducó o no viene de la página (CSRF).", "Recargue la página."),
    "T213": ("Documento de registro de otro tipo o de más de 5 MB.", "Suba un PDF, JPG o PNG de hasta 5 MB."),
    "T214": ("La solicitud de registro ya se aprobó o rechazó.", "Nada que hacer."),
    "T215": ("La exportación pedida es demasiado grande para un archivo.", "Acote fechas o receptor."),
    "T220": ("La base de datos no responde (reinicio, conmutación). No se guardó ni cobró nada.",
             "Reintente tras Retry-After con la misma Idempotency-Key."),
    "T230": ("La política de retención del PAC depuró el XML (TIMBRA_RETENTION_MONTHS).",
             "Use su copia; el estado y los acuses siguen disponibles."),
    "T231": ("El respaldo o la restauración falló (espacio, permisos, pg_dump).",
             "Operador: lea el mensaje y el log."),
    "T232": ("El almacén S3 no responde. No se guardó ni cobró nada.",
             "Reintente tras Retry-After con la misma Idempotency-Key."),
    "T900": ("Error inesperado del PAC (el detalle queda en el log con el X-Request-ID).",
             "Reintente; si persiste, reporte el X-Request-ID al PAC."),
}

# SAT's cancellation service codes (CANCELLATION_CODES): cause and fix.
CANCELLATION_CAUSES: dict[str, tuple[str, str]] = {
    "201": ("El SAT aceptó la solicitud.",
            "Si el receptor debe aceptar, el estado queda en proceso: consulte el estado."),
    "202": ("El CFDI ya estaba cancelado.", "Nada que hacer."),
    "203": ("El UUID no es de ese emisor.", "Cancele con el CSD del RFC emisor del CFDI."),
    "204": ("El CFDI no se puede cancelar ahora (p. ej. tiene CFDI relacionados vigentes).",
            "Cancele antes los relacionados (pagos, notas de crédito)."),
    "205": ("El SAT aún no conoce el UUID (un CFDI recién timbrado puede tardar) o no existe.",
            "Reintente más tarde; revise el UUID."),
    "206": ("El UUID no es de un CFDI del sector primario.", "Revise el UUID."),
    "207": ("Falta el motivo o no es válido.", "Use 01, 02, 03 o 04."),
    "208": ("Motivo 01 sin FolioSustitucion válido.", "Envíe el UUID del CFDI que sustituye (del mismo emisor)."),
    "209": ("FolioSustitucion con un motivo que no es 01.", "Quite folio_sustitucion."),
    "210": ("Pasó el plazo de cancelación (la declaración anual del ejercicio).", "Ya no se puede cancelar."),
    "211": ("Pasó el plazo de cancelación de una factura global.", "Ya no se puede cancelar."),
    "212": ("El sustituto no se relaciona con el cancelado (TipoRelacion 04).",
            "Emita el sustituto con CfdiRelacionados TipoRelacion 04 al UUID cancelado."),
    "300": ("Usuario no válido ante el servicio de cancelación.", "Revise las credenciales."),
    "301": ("La solicitud de cancelación no está bien formada.", "Genérela de nuevo (o deje que timbra la firme)."),
    "302": ("La firma de la solicitud es inválida.", "Firme de nuevo con el CSD del emisor."),
    "303": ("El certificado que firma no es del RFC emisor.", "Firme con el CSD del RFC emisor."),
    "304": ("El certificado está revocado, vencido o aún no vigente.", "Use un CSD vigente."),
    "305": ("Certificado inválido.", "Use el CSD del emisor expedido por el SAT."),
    "306": ("Se firmó con un certificado que no es CSD.", "Firme con el CSD."),
    "308": ("El certificado no lo emitió el SAT.", "Use un CSD del SAT."),
    "309": ("Certificado inválido.", "Use el CSD del emisor expedido por el SAT."),
    "310": ("Se firmó con la e.firma.", "Firme con el CSD."),
    "311": ("Motivo fuera de 01-04.", "Use 01, 02, 03 o 04."),
    "312": ("El UUID no se relaciona como pide el motivo.", "Con motivo 01, relacione el sustituto."),
    "1000": ("El SAT recibió la respuesta del receptor.", "Nada que hacer."),
    "1001": ("No hay solicitud pendiente para ese UUID.", "Consulte `GET /v1/pending`."),
    "1002": ("La solicitud ya tenía respuesta.", "Nada que hacer."),
    "1003": ("La firma no es del RFC receptor.", "Firme con el CSD del receptor."),
    "1004": ("Hay más de una solicitud para el mismo UUID.", "Consulte al SAT."),
    "1005": ("UUID vacío o mal formado.", "Revise el UUID."),
    "1006": ("Demasiadas respuestas en una solicitud.", "Divida la solicitud."),
    "1100": ("Consulta exitosa de pendientes.", "Nada que hacer."),
    "1101": ("El receptor no tiene solicitudes pendientes.", "Nada que hacer."),
}

MATRIX_TITLES = {
    "cfdi40": "CFDI 4.0", "cfdi33": "CFDI 3.3", "pagos20": "Complemento de pagos 2.0",
    "nomina12": "Complemento de nómina 1.2", "cartaporte31": "Carta Porte 3.1",
    "cce20": "Comercio exterior 2.0", "retenciones20": "Retenciones 2.0",
}


def _cell(text: str) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _codes_table(table: list[Code], causes: dict[str, tuple[str, str]]) -> str:
    lines = ["| código | HTTP | origen | mensaje (es) | message (en) | causa | cómo corregirlo |",
             "|---|---|---|---|---|---|---|"]
    for c in table:
        cause, fix = causes[c.code]
        lines.append(f"| <span id=\"c{c.code}\">`{c.code}`</span> | {c.http_status} | {c.source} | {_cell(c.es)} "
                     f"| {_cell(c.en)} | {_cell(cause)} | {_cell(fix)} |")
    return "\n".join(lines) + "\n"


def matrices_markdown() -> str:
    """Every code of SAT's matrices: SAT publishes them in Spanish only; the cause is SAT's validation rule and
    the fix is to make the named node meet it."""
    out = []
    for name in MATRICES:
        rows = matrix(name)
        out.append(f"### {MATRIX_TITLES[name]} ({len(rows)} códigos)\n")
        out.append("| código | nodo | mensaje del SAT (es) | causa: la regla del SAT | cómo corregirlo |")
        out.append("|---|---|---|---|---|")
        for r in rows:
            node = ".".join(p for p in (r.get("elemento", ""), r.get("atributo", "")) if p) or "—"
            text = r.get("descripcion") or r.get("error") or ""
            fix = f"Haga que `{_cell(node)}` cumpla la regla" if node != "—" else "Cumpla la regla"
            if r.get("aclaraciones"):
                fix += f" (aclaración del SAT: {_cell(r['aclaraciones'])})"
            out.append(f"| `{r['codigo']}` | `{_cell(node)}` | {_cell(text)} | {_cell(r.get('validacion', ''))} "
                       f"| {fix}. |")
        out.append("")
    return "\n".join(out)


# Routes whose OpenAPI summary is still missing: what the manual says of them.
_ROUTE_TEXT = {
    "get_cfdi": "Datos de un CFDI timbrado / a stamped CFDI's data",
    "get_cfdi_xml": "El XML timbrado / the stamped XML",
    "get_cfdi_acuse_envio": "Acuse de recepción del SAT / SAT's acknowledgment of receipt",
    "change_password": "Cambiar la contraseña / change the password",
    "me": "La cuenta y el usuario de la credencial / who the credential is",
    "create_api_key": "Crear una API key (se muestra una vez) / create an API key (shown once)",
    "list_api_keys": "API keys de la cuenta / the account's API keys",
    "revoke_api_key": "Revocar una API key / revoke an API key",
    "create_account": "Crear una cuenta (admin, distribuidor) / create an account",
    "list_accounts": "Cuentas visibles / the accounts you can see",
    "get_account": "Una cuenta / one account",
    "add_user": "Agregar un usuario / add a user",
    "add_rfc": "Registrar un RFC en la cuenta / register an RFC",
    "account_credits": "Saldo de una cuenta / an account's balance",
    "sell_package": "Vender un paquete de créditos (admin) / sell a credit package",
    "transfer_credits": "Transferir créditos (distribuidor) / hand credits to a client",
}


def routes_markdown() -> str:
    """Every REST route of the API (the routers api/app.py includes), with its summary as OpenAPI shows it."""
    from fastapi.routing import APIRoute

    from timbra.api import cancel, printing, rest

    lines = ["| método | ruta | qué hace / what it does |", "|---|---|---|"]
    for router in (rest.router, cancel.router, printing.router):
        for r in router.routes:
            if isinstance(r, APIRoute) and r.include_in_schema:
                for m in sorted(r.methods - {"HEAD", "OPTIONS"}):
                    doc = (r.endpoint.__doc__ or r.name).strip().split("\n")[0]
                    summary = r.summary or _ROUTE_TEXT.get(r.name) or doc
                    lines.append(f"| {m} | `{r.path}` | {_cell(summary)} |")
    return "\n".join(lines) + "\n"


def soap_markdown() -> str:
    """Every SOAP service timbra answers, its paths and its operations with their parameters in order (from the
    same descriptions that write the WSDLs)."""
    from timbra.api.soap import endpoints

    paths: dict[int, list[str]] = {}
    services = {}
    for path, ep in endpoints().items():
        paths.setdefault(id(ep), []).append(path)
        services[id(ep)] = ep.service
    out = []
    for key, service in services.items():
        out.append(f"### {service.name}\n")
        out.append("Rutas / paths: " + ", ".join(f"`{p}`" for p in paths[key]) + "\n")
        out.append("| operación | parámetros (en orden) | resultado |")
        out.append("|---|---|---|")
        for op in service.ops:
            params = ", ".join(f"`{p.name}`" for p in op.params)
            out.append(f"| `{op.name}` | {params} | `{op.result}` |")
        out.append("")
    return "\n".join(out)


def catalog(marker: str) -> str:
    if marker == "soap":
        return soap_markdown()
    if marker == "routes":
        return routes_markdown()
    if marker == "codes":
        return _codes_table(_TABLE, CAUSES)
    if marker == "cancellation":
        return _codes_table(_CANCELLATION, CANCELLATION_CAUSES)
    if marker == "matrices":
        return matrices_markdown()
    raise KeyError(marker)


def on_page_markdown(markdown: str, **_kwargs) -> str:
    for marker in ("routes", "soap", "codes", "cancellation", "matrices"):
        tag = f"<!-- catalog:{marker} -->"
        if tag in markdown:
            markdown = markdown.replace(tag, catalog(marker))
    return markdown
