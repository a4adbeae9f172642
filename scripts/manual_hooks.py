"""MkDocs hooks of the manual (mkdocs.yml `hooks:`): the error-code catalog is written at build time from
timbra/codes.py and SAT's matrices (timbra/sat/matrices.py), so it cannot drift from what clients get.

A page with the marker `<!-- catalog:codes -->`, `<!-- catalog:cancellation -->` or `<!-- catalog:matrices -->`
(or `<!-- catalog:routes -->`, the REST routes; `<!-- catalog:soap -->`, the SOAP operations) gets the table
there. Every code of timbra/codes.py needs its cause and fix in CAUSES and CAUSES_EN (tests/test_manual.py
checks it).
"""
from __future__ import annotations

from timbra.codes import _CANCELLATION, _TABLE, Code
from timbra.sat.matrices import MATRICES, matrix

# code -> (causa, cómo corregirlo): Spanish first, as every text users read; CAUSES_EN below is the English.
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
    "T221": ("Producción con el certificado del PAC del sandbox, o sin TIMBRA_PAC_CER.",
             "Operador: configure TIMBRA_PAC_CER/TIMBRA_PAC_KEY con el certificado que el SAT emitió al PAC."),
    "T222": ("Producción sin TIMBRA_MASTER_KEY, con la llave del sandbox o una trivial.",
             "Operador: genere 32 bytes aleatorios en base64 y póngalos en TIMBRA_MASTER_KEY."),
    "T223": ("La base de datos de producción tiene las cuentas de demostración del sandbox.",
             "Operador: use una base de datos nueva para producción."),
    "T224": ("Demasiadas API keys inválidas desde su dirección.",
             "Revise la API key configurada y espere los segundos de Retry-After."),
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

# The same in English (the manual's second language).
CAUSES_EN: dict[str, tuple[str, str]] = {
    "301": ("The XML is not well-formed or does not follow SAT's XSD (Anexo 20 or the complement's).",
            "See `findings[].node` for the failing node; check with `POST /v1/validate` or `timbra validate`."),
    "302": ("The Sello does not verify with the document's certificate: the cadena original changed after "
            "sealing, or another key sealed it.",
            "Seal after the last change, with the key of the CSD in Certificado."),
    "303": ("The certificate's RFC is not the Emisor's Rfc.", "Seal with the Emisor's CSD."),
    "304": ("The CSD is revoked or expired.", "Get a new CSD from SAT (CertiSAT) and seal with it."),
    "305": ("Fecha is outside the CSD's validity.", "Use a CSD valid at the issue date."),
    "306": ("Sealed with the e.firma (FIEL), not a CSD.", "Seal with the Certificado de Sello Digital."),
    "307": ("The XML already has a TimbreFiscalDigital.",
            "Do not resend a stamped CFDI; a retry of the same document in timbra answers the first stamp."),
    "308": ("The certificate was not issued by one of SAT's CAs.", "Use a CSD issued by SAT."),
    "401": ("Fecha is more than 72 hours old or in the future.",
            "Generate and seal again with the current Fecha (LugarExpedicion's local time)."),
    "402": ("The Emisor's RFC is not in SAT's taxpayer list (LCO).",
            "Check the RFC; a new RFC can take time to appear."),
    "403": ("Fecha is before this CFDI version came into force.", "Fix Fecha or the version."),
    "T001": ("This CFDI version is not stamped (e.g. 3.3 after its end).", "Issue CFDI 4.0."),
    "T100": ("The request does not have the expected shape (bad JSON, malformed parameter).",
             "See `message` and `findings`; each route's shape is in /docs (OpenAPI)."),
    "T101": ("The API key or the user and password are missing or wrong.",
             "Send `X-API-Key: tbk_...` (or `Authorization: Bearer`) or HTTP Basic."),
    "T102": ("Your account may not do this (e.g. an emisor on admin routes).", "Use a user of the right account."),
    "T103": ("The route or resource does not exist or is not your account's.",
             "Check the identifier; a CFDI is seen only by its account and the accounts above it."),
    "T104": ("The account has no valid credits.", "Buy a package (from your distributor or the PAC)."),
    "T105": ("The Emisor's Rfc is not registered in the account.", "Have the PAC or your distributor register it."),
    "T106": ("The same Idempotency-Key came with another document.",
             "Use one key per document (e.g. a hash of the XML)."),
    "T107": ("The body or document is over the limit (TIMBRA_MAX_DOCUMENT_BYTES, 20 MiB by default).",
             "Make it smaller; the PAC's operator sets the limit."),
    "T108": ("The route exists, not with this HTTP method.", "Use the method /docs shows."),
    "T109": ("Unsupported Content-Type.",
             "Send `application/xml` (the XML) or `application/json` ({\"xml\": base64})."),
    "T110": ("It exists already (user, RFC, CSD).", "Use the existing one or another name."),
    "T111": ("The password is shorter than 10 characters.", "Choose one of at least 10 characters."),
    "T112": ("The distributor's packages do not cover the sale or transfer.", "Buy credits from the PAC first."),
    "T120": ("The .cer cannot be read or is not a CSD.", "Upload the CSD's .cer (DER or PEM) as it is."),
    "T121": ("The e.firma (FIEL) was uploaded instead of the CSD.", "Upload the Certificado de Sello Digital."),
    "T122": ("The certificate's RFC is not in the account.", "Register the RFC or upload the right CSD."),
    "T123": ("The CSD is expired or not valid yet.", "Upload a valid CSD."),
    "T124": ("The .key does not belong to the .cer.", "Upload the .cer/.key pair of one CSD."),
    "T125": ("Wrong password for the private key, or a damaged .key.", "Check the CSD's password (not the e.firma's)."),
    "T126": ("The certificate was not issued by one of SAT's CAs.", "Use a CSD issued by SAT."),
    "T127": ("The RFC has no active CSD in timbra's vault (issuing from data, cancelling).",
             "Upload the CSD (`POST /v1/csd`) or send one in the request."),
    "T130": ("The data sent to `/v1/issue` does not have the expected shape; `findings[].node` names the JSON field.",
             "Fix that field; examples in docs/examples/."),
    "T131": ("No valid CFDI can be built from this data (catalogs, amounts).",
             "Each finding has SAT's code and the field: fix it."),
    "T140": ("The RFC belongs to another account.", "Only the PAC admin can share an RFC."),
    "T150": ("Too many failed passwords from your address or for the user.",
             "Wait Retry-After seconds; integrations should use an API key."),
    "T151": ("The server is verifying many passwords at once (argon2 is costly on purpose).",
             "Retry after Retry-After or, better, use an API key."),
    "T160": ("RegimenFiscalReceptor is not one of the receptor RFC's regímenes in SAT's list.",
             "Ask your customer for the Constancia de Situación Fiscal and use its régimen."),
    "T161": ("The complement is not in force at the document's date.", "Use the complement's current version."),
    "T162": ("Verifying a CFDI 3.3: a 4.0 rule without an equivalent in the 3.3 matrix.", "Informational."),
    "T163": ("The CFDI to verify is not stamped.", "Verify the stamped XML you received."),
    "T164": ("The TFD's SelloCFD is not the document's Sello: the XML was altered.",
             "Ask the emisor for the original."),
    "T165": ("The PAC certificate (NoCertificadoSAT) is not one timbra knows.", "Verify at SAT's portal."),
    "T166": ("The SelloSAT does not match: the stamp was altered.", "Ask the emisor for the original."),
    "T167": ("The PAC's certificate was not valid at FechaTimbrado.", "Check with the emisor and SAT."),
    "T170": ("A TIMBRA_* variable has an invalid value.", "The message names it; fix it and restart."),
    "T171": ("Production without TIMBRA_PAC_KEY_PASSWORD.", "Set the PAC key's password."),
    "T172": ("Malformed TIMBRA_MASTER_KEY.", "Use base64 of 32 bytes, or comma-separated id:base64."),
    "T173": ("`timbra stamp`/`timbra demo` outside the sandbox.", "In production stamp with POST /v1/stamp."),
    "T180": ("The cancellation has no folios or more than 500.", "Send 1 to 500 UUIDs per request."),
    "T181": ("A UUID appears twice in the request.", "Remove the repeated one."),
    "T182": ("The signed Cancelacion names UUIDs that are not the account's.", "Sign one with only yours."),
    "T183": ("SAT did not answer; the request is stored and timbra sends it again.",
             "Nothing to do: check `GET /v1/cfdi/{uuid}/status` later."),
    "T184": ("No cancellation request waits for your answer for that UUID.", "See `GET /v1/pending`."),
    "T185": ("More than one way to sign, or an incomplete one.",
             "Use one: the vault (nothing), `csd` {cer, key, password}, `csd` {pfx, password} or the signed XML."),
    "T190": ("The logo is not a base64 PNG or JPEG.", "Send a PNG or JPEG in base64."),
    "T191": ("The logo is over 512 KB or 4000 x 4000 pixels.", "Make the image smaller."),
    "T192": ("The colour is not #RRGGBB.", "Use e.g. #1F4E79."),
    "T200": ("The SOAP envelope cannot be read (not XML, a DTD, no operation).",
             "Send a SOAP 1.1 or 1.2 Envelope with one operation in its Body; compare with the WSDL."),
    "T201": ("The service has no such operation.", "See the service's WSDL (`?wsdl`)."),
    "T202": ("The operation is in the WSDL but timbra does not offer it yet.", "See docs/soap.md."),
    "T203": ("A parameter is not of the WSDL's type (e.g. text in an int).", "Send the WSDL's type."),
    "T210": ("Too many public lookups from your address.", "Wait Retry-After seconds."),
    "T211": ("UUID, RFC emisor and RFC receptor do not match a CFDI.", "Check all three."),
    "T212": ("The form expired or does not come from the page (CSRF).", "Reload the page."),
    "T213": ("A registration document of another type or over 5 MB.", "Upload a PDF, JPG or PNG of up to 5 MB."),
    "T214": ("The registration request was approved or rejected already.", "Nothing to do."),
    "T215": ("The export asked for is too large for one file.", "Narrow the dates or the receptor."),
    "T220": ("The database does not answer (restart, failover). Nothing was stored or charged.",
             "Retry after Retry-After with the same Idempotency-Key."),
    "T221": ("Production with the sandbox's PAC certificate, or without TIMBRA_PAC_CER.",
             "Operator: set TIMBRA_PAC_CER/TIMBRA_PAC_KEY to the certificate SAT issued to the PAC."),
    "T222": ("Production without TIMBRA_MASTER_KEY, with the sandbox's key or a trivial one.",
             "Operator: generate 32 random bytes in base64 and put them in TIMBRA_MASTER_KEY."),
    "T223": ("The production database holds the sandbox's demo accounts.",
             "Operator: use a new database for production."),
    "T224": ("Too many invalid API keys from your address.",
             "Check the configured API key and wait Retry-After seconds."),
    "T230": ("The PAC's retention policy purged the XML (TIMBRA_RETENTION_MONTHS).",
             "Use your copy; status and acuses are still there."),
    "T231": ("The backup or restore failed (space, permissions, pg_dump).", "Operator: read the message and the log."),
    "T232": ("The S3 store does not answer. Nothing was stored or charged.",
             "Retry after Retry-After with the same Idempotency-Key."),
    "T900": ("An unexpected PAC error (the details are in the log under the X-Request-ID).",
             "Retry; if it persists, report the X-Request-ID to the PAC."),
}

CANCELLATION_CAUSES_EN: dict[str, tuple[str, str]] = {
    "201": ("SAT accepted the request.", "If the receptor must accept, it stays in process: check the status."),
    "202": ("The CFDI was already cancelled.", "Nothing to do."),
    "203": ("The UUID is not the emisor's.", "Cancel with the CSD of the CFDI's RFC emisor."),
    "204": ("The CFDI cannot be cancelled now (e.g. it has live related CFDI).",
            "Cancel the related ones first (payments, credit notes)."),
    "205": ("SAT does not know the UUID yet (a new CFDI can take a while) or it does not exist.",
            "Retry later; check the UUID."),
    "206": ("The UUID is not a sector primario CFDI.", "Check the UUID."),
    "207": ("The motivo is missing or invalid.", "Use 01, 02, 03 or 04."),
    "208": ("Motivo 01 without a valid FolioSustitucion.", "Send the UUID of the replacing CFDI (same emisor)."),
    "209": ("FolioSustitucion with a motivo other than 01.", "Remove folio_sustitucion."),
    "210": ("Past the cancellation deadline (the year's annual return).", "It can no longer be cancelled."),
    "211": ("Past the deadline for a factura global.", "It can no longer be cancelled."),
    "212": ("The substitute is not related to the cancelled CFDI (TipoRelacion 04).",
            "Issue the substitute with CfdiRelacionados TipoRelacion 04 to the cancelled UUID."),
    "300": ("Invalid user for the cancellation service.", "Check the credentials."),
    "301": ("The cancellation request is malformed.", "Make it again (or let timbra sign it)."),
    "302": ("The request's signature is invalid.", "Sign again with the emisor's CSD."),
    "303": ("The signing certificate is not the RFC emisor's.", "Sign with the RFC emisor's CSD."),
    "304": ("The certificate is revoked, expired or not valid yet.", "Use a valid CSD."),
    "305": ("Invalid certificate.", "Use the emisor's CSD issued by SAT."),
    "306": ("Signed with a certificate that is not a CSD.", "Sign with the CSD."),
    "308": ("The certificate was not issued by SAT.", "Use a CSD issued by SAT."),
    "309": ("Invalid certificate.", "Use the emisor's CSD issued by SAT."),
    "310": ("Signed with the e.firma.", "Sign with the CSD."),
    "311": ("Motivo outside 01-04.", "Use 01, 02, 03 or 04."),
    "312": ("The UUID is not related as the motivo requires.", "With motivo 01, relate the substitute."),
    "1000": ("SAT received the receptor's answer.", "Nothing to do."),
    "1001": ("No pending request for that UUID.", "See `GET /v1/pending`."),
    "1002": ("The request was answered already.", "Nothing to do."),
    "1003": ("The signature is not the RFC receptor's.", "Sign with the receptor's CSD."),
    "1004": ("More than one request for the same UUID.", "Ask SAT."),
    "1005": ("Empty or malformed UUID.", "Check the UUID."),
    "1006": ("Too many answers in one request.", "Split the request."),
    "1100": ("Pending requests retrieved.", "Nothing to do."),
    "1101": ("The receptor has no pending requests.", "Nothing to do."),
}

MATRIX_TITLES = {
    "cfdi40": "CFDI 4.0", "cfdi33": "CFDI 3.3", "pagos20": "Complemento de pagos 2.0",
    "nomina12": "Complemento de nómina 1.2", "cartaporte31": "Carta Porte 3.1",
    "cce20": "Comercio exterior 2.0", "retenciones20": "Retenciones 2.0",
}


def _cell(text: str) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _codes_table(table: list[Code], causes: dict[str, tuple[str, str]], causes_en: dict[str, tuple[str, str]]) -> str:
    lines = ["| código | HTTP | origen | mensaje / *message* | causa / *cause* | cómo corregirlo / *how to fix it* |",
             "|---|---|---|---|---|---|"]
    for c in table:
        (cause, fix), (cause_en, fix_en) = causes[c.code], causes_en[c.code]
        lines.append(f"| <span id=\"c{c.code}\">`{c.code}`</span> | {c.http_status} | {c.source} "
                     f"| {_cell(c.es)}<br>*{_cell(c.en)}* | {_cell(cause)}<br>*{_cell(cause_en)}* "
                     f"| {_cell(fix)}<br>*{_cell(fix_en)}* |")
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
        return _codes_table(_TABLE, CAUSES, CAUSES_EN)
    if marker == "cancellation":
        return _codes_table(_CANCELLATION, CANCELLATION_CAUSES, CANCELLATION_CAUSES_EN)
    if marker == "matrices":
        return matrices_markdown()
    raise KeyError(marker)


def on_page_markdown(markdown: str, **_kwargs) -> str:
    for marker in ("routes", "soap", "codes", "cancellation", "matrices"):
        tag = f"<!-- catalog:{marker} -->"
        if tag in markdown:
            markdown = markdown.replace(tag, catalog(marker))
    return markdown
