"""The tables of every code a client can get, with Spanish (first) and English text.

SAT's stamping codes (301-308, 401-403) keep SAT's numbers and meaning. The CFDI 4.0/3.3 matrix codes
(CFDI40101...) take their Spanish text from SAT's matrix file itself (timbra.sat.matrices), so the words
are SAT's own. timbra's own codes start with "T".

SAT's cancellation service has its own codes (CANCELLATION_CODES), a second table: 301-308 there mean other
things than in stamping (303, 306, 308 name the request's signer, not a CFDI's Emisor), so the two tables
never merge; `error()` is for the first, `cancellation_error()` for the second.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from timbra.errors import Finding, Source, TimbraError


@dataclass(frozen=True)
class Code:
    code: str
    es: str
    en: str
    source: Source = "client"
    http_status: int = 422


_TABLE = [
    Code("301", "XML mal formado: el comprobante no cumple con el estándar XML ni con el esquema del SAT.",
         "Malformed XML: the document is not well-formed XML or does not follow SAT's schema.", http_status=400),
    Code("302", "Sello mal formado o inválido.", "The Sello is malformed or invalid."),
    Code("303", "Sello no corresponde a emisor: el RFC del certificado no es el del Emisor.",
         "The Sello does not belong to the Emisor: the certificate's RFC is not the Emisor's Rfc."),
    Code("304", "Certificado revocado o caduco.", "The certificate is revoked or expired."),
    Code("305", "La fecha de emisión no está dentro de la vigencia del CSD del emisor.",
         "The issue date (Fecha) is outside the validity of the Emisor's CSD."),
    Code("306", "El certificado no es de tipo CSD: no se puede sellar un CFDI con la e.firma (FIEL).",
         "The certificate is not a CSD: a CFDI cannot be sealed with an e.firma (FIEL)."),
    Code("307", "El CFDI contiene un timbre previo.", "The CFDI was already stamped.", http_status=409),
    Code("308", "Certificado no expedido por el SAT.", "The certificate was not issued by SAT."),
    Code("401", "Fecha y hora de generación fuera de rango: el comprobante debe timbrarse dentro de las "
                "72 horas siguientes a su emisión y su fecha no puede ser futura.",
         "Issue date out of range: a CFDI must be stamped within 72 hours of its Fecha, and Fecha cannot "
         "be in the future."),
    Code("402", "RFC del emisor no se encuentra en el régimen de contribuyentes (LCO).",
         "The Emisor's RFC is not in SAT's list of taxpayers (LCO)."),
    Code("403", "La fecha de emisión es anterior a la entrada en vigor de la versión del comprobante.",
         "The issue date is earlier than the start of this CFDI version."),
    Code("T001", "Versión de CFDI no admitida para timbrado.", "CFDI version not accepted for stamping."),
    # The service (timbra's own codes; HTTP status is what REST answers).
    Code("T100", "Solicitud inválida.", "Bad request.", http_status=400),
    Code("T101", "Credenciales inválidas o ausentes.", "Missing or invalid credentials.", http_status=401),
    Code("T102", "No tiene permiso para esta operación.", "You are not allowed to do this.", http_status=403),
    Code("T103", "No encontrado.", "Not found.", http_status=404),
    Code("T104", "Sin créditos disponibles para timbrar.", "No credits left to stamp.", http_status=402),
    Code("T105", "El RFC del emisor no está registrado en la cuenta.",
         "The Emisor's RFC is not registered in this account.", http_status=403),
    Code("T106", "La llave de idempotencia ya se usó con otro documento.",
         "The idempotency key was already used with another document.", http_status=409),
    Code("T107", "La solicitud excede el tamaño máximo.", "The request is too large.", http_status=413),
    Code("T108", "Método no permitido.", "Method not allowed.", http_status=405),
    Code("T109", "Tipo de contenido no admitido.", "Unsupported content type.", http_status=415),
    Code("T110", "Ya existe.", "Already exists.", http_status=409),
    Code("T111", "La contraseña no cumple la política: al menos 10 caracteres.",
         "The password does not meet the policy: at least 10 characters.", http_status=422),
    Code("T112", "Créditos insuficientes en los paquetes del distribuidor.",
         "Not enough credits in the distributor's packages.", http_status=409),
    # The CSD vault (conexión remota).
    Code("T120", "CSD inválido: el certificado no se puede leer o no es un Certificado de Sello Digital.",
         "Invalid CSD: the certificate cannot be read or is not a Certificado de Sello Digital."),
    Code("T121", "El certificado es de e.firma (FIEL), no un CSD: suba su Certificado de Sello Digital.",
         "The certificate is an e.firma (FIEL), not a CSD: upload your Certificado de Sello Digital."),
    Code("T122", "El RFC del certificado no está registrado en la cuenta.",
         "The certificate's RFC is not registered in this account."),
    Code("T123", "El CSD está vencido o todavía no es vigente.", "The CSD is expired or not valid yet."),
    Code("T124", "La llave privada no corresponde al certificado.",
         "The private key does not belong to the certificate."),
    Code("T125", "No se pudo abrir la llave privada: contraseña incorrecta o archivo dañado.",
         "The private key cannot be opened: wrong password or damaged file."),
    Code("T126", "El certificado no fue expedido por una autoridad certificadora del SAT.",
         "The certificate was not issued by one of SAT's certificate authorities."),
    Code("T127", "El RFC no tiene un CSD activo en la cuenta.", "The RFC has no active CSD in this account.",
         http_status=409),
    Code("T130", "Los datos del comprobante no tienen la forma esperada.",
         "The invoice data does not have the expected shape.", http_status=422),
    Code("T131", "Los datos del comprobante no permiten construir un CFDI válido.",
         "The invoice data cannot make a valid CFDI.", http_status=422),
    # Accounts.
    Code("T140", "El RFC ya está registrado en otra cuenta: solo el administrador del PAC puede compartirlo.",
         "The RFC is registered in another account already: only the PAC admin can share it.", http_status=409),
    # Rules as of a date, and verifying a received CFDI (timbra verify, POST /v1/verify).
    Code("T160", "El RegimenFiscalReceptor no es uno de los regímenes del RFC del receptor en la lista de RFC "
                 "inscritos no cancelados del SAT.",
         "RegimenFiscalReceptor is not one of the receptor RFC's regímenes in SAT's list of registered RFCs."),
    Code("T161", "El complemento no está vigente en la fecha de validación.",
         "The complement is not in force at the validation date."),
    Code("T162", "Validación de CFDI 4.0 sin equivalente en la matriz de errores de CFDI 3.3.",
         "A CFDI 4.0 check with no equivalent in SAT's CFDI 3.3 error matrix."),
    Code("T163", "El CFDI no tiene TimbreFiscalDigital: no está timbrado.",
         "The CFDI has no TimbreFiscalDigital: it is not stamped."),
    Code("T164", "El SelloCFD del TimbreFiscalDigital no es el Sello del comprobante.",
         "The TimbreFiscalDigital's SelloCFD is not the Comprobante's Sello."),
    Code("T165", "No verificable: el certificado del PAC (NoCertificadoSAT) no es uno que timbra conozca.",
         "Not verifiable: the PAC certificate (NoCertificadoSAT) is not one timbra knows."),
    Code("T166", "El SelloSAT no corresponde a la cadena original del TimbreFiscalDigital con el certificado "
                 "del PAC.",
         "The SelloSAT does not match the TimbreFiscalDigital's cadena original with the PAC's certificate."),
    Code("T167", "El certificado del PAC no estaba vigente en la FechaTimbrado.",
         "The PAC's certificate was not valid at FechaTimbrado."),
    # Logins (HTTP Basic): argon2 is costly by design, so failed attempts are throttled and bounded.
    Code("T150", "Demasiados intentos fallidos de inicio de sesión; espere antes de volver a intentar "
                 "(vea Retry-After).",
         "Too many failed login attempts; wait before trying again (see Retry-After).", http_status=429),
    Code("T151", "El servidor está ocupado verificando contraseñas; intente de nuevo en unos segundos o use "
                 "una API key.",
         "The server is busy verifying passwords; try again in a few seconds or use an API key.",
         http_status=503),
    # Configuration and the command line (a deployment or usage problem: `timbra` exits with status 2).
    Code("T170", "Configuración inválida: revise las variables TIMBRA_*.",
         "Invalid configuration: check the TIMBRA_* variables.", source="pac", http_status=500),
    Code("T171", "Falta TIMBRA_PAC_KEY_PASSWORD: fuera del sandbox la llave del PAC no tiene contraseña por "
                 "omisión.",
         "TIMBRA_PAC_KEY_PASSWORD is missing: outside the sandbox the PAC key has no default password.",
         source="pac", http_status=500),
    Code("T172", "TIMBRA_MASTER_KEY inválida: se espera base64 de 32 bytes, o id:base64 separados por comas.",
         "Invalid TIMBRA_MASTER_KEY: base64 of 32 bytes expected, or comma-separated id:base64 entries.",
         source="pac", http_status=500),
    Code("T173", "`timbra stamp` y `timbra demo` solo funcionan en el sandbox (sin validez fiscal, no se "
                 "guarda): en producción se timbra con POST /v1/stamp.",
         "`timbra stamp` and `timbra demo` only work in the sandbox (no fiscal validity, nothing stored): in "
         "production stamp with POST /v1/stamp.", http_status=400),
    Code("T180", "La solicitud de cancelación admite de 1 a 500 folios.",
         "A cancellation request carries from 1 to 500 folios."),
    Code("T181", "UUID repetido en la solicitud de cancelación.", "UUID repeated in the cancellation request."),
    Code("T182", "La solicitud de cancelación firmada incluye folios que no son CFDI de esta cuenta: fírmela solo "
                 "con los de la cuenta.",
         "The signed cancellation request names UUIDs that are not CFDI of this account: sign one with only "
         "the account's.", http_status=422),
    Code("T183", "Solicitud de cancelación guardada: el SAT no respondió y timbra la reenviará en cuanto "
                 "responda; consulte el estado más tarde.",
         "Cancellation request stored: SAT did not answer and timbra will send it again as soon as it does; "
         "check the status later.", source="sat", http_status=202),
    Code("T184", "No hay una solicitud de cancelación pendiente de su respuesta para este UUID.",
         "There is no cancellation request waiting for your answer for this UUID.", http_status=404),
    Code("T185", "Firme con un solo medio: el CSD guardado en timbra, un CSD (cer, key, password) o un .pfx en la "
                 "solicitud, o una solicitud ya firmada (XML).",
         "Sign with one means only: the CSD kept in timbra, a CSD (cer, key, password) or a .pfx in the request, "
         "or an already signed request (XML).", http_status=400),
    Code("T210", "Demasiadas consultas desde su dirección; espere antes de volver a intentar (vea Retry-After).",
         "Too many lookups from your address; wait before trying again (see Retry-After).", http_status=429),
    Code("T211", "No encontramos un CFDI con ese folio fiscal, RFC emisor y RFC receptor: revise los tres datos.",
         "No CFDI matches that folio fiscal (UUID), RFC emisor and RFC receptor: check all three.",
         http_status=404),
    Code("T212", "El formulario caducó o no viene de esta página (CSRF): recárguela e intente de nuevo.",
         "The form expired or does not come from this page (CSRF): reload it and try again.", http_status=403),
    Code("T213", "Documento de registro no admitido: PDF, JPG o PNG de hasta 5 MB, uno de cada tipo.",
         "Registration document not accepted: a PDF, JPG or PNG of up to 5 MB, one of each kind.",
         http_status=422),
    Code("T214", "La solicitud de registro ya fue resuelta.", "The registration request was already decided.",
         http_status=409),
    Code("T215", "La selección es demasiado grande para un solo archivo: acote el filtro (fechas, receptor).",
         "The selection is too large for one file: narrow the filter (dates, receptor).", http_status=413),
    # SOAP adapters (FEL's and Finkok's services): faults of the envelope itself.
    Code("T200", "Sobre SOAP inválido: se espera un Envelope SOAP 1.1 o 1.2 bien formado, sin DTD, con una operación "
                 "en el Body.",
         "Invalid SOAP envelope: a well-formed SOAP 1.1 or 1.2 Envelope is expected, without a DTD, with one "
         "operation in its Body.", http_status=400),
    Code("T201", "Operación SOAP desconocida para este servicio.", "Unknown SOAP operation for this service.",
         http_status=400),
    Code("T202", "Operación aún no disponible en timbra.", "Operation not available in timbra yet.",
         source="pac", http_status=501),
    Code("T203", "Parámetro SOAP inválido: su valor no es del tipo que declara el WSDL.",
         "Invalid SOAP parameter: its value is not of the type the WSDL declares.", http_status=400),
    Code("T220", "Servicio no disponible por un momento: la base de datos no responde. No se guardó ni cobró nada "
                 "de esta solicitud; reintente (vea Retry-After).",
         "Service unavailable for a moment: the database does not answer. Nothing of this request was stored or "
         "charged; retry (see Retry-After).", source="pac", http_status=503),
    # Production refuses what belongs to the sandbox (`timbra serve` exits with status 2).
    Code("T221", "Producción no arranca con el certificado del PAC del sandbox (emitido por la AC de prueba de "
                 "timbra): configure TIMBRA_PAC_CER y TIMBRA_PAC_KEY con el certificado que el SAT le emitió.",
         "Production does not start with the sandbox's PAC certificate (issued by timbra's test CA): set "
         "TIMBRA_PAC_CER and TIMBRA_PAC_KEY to the certificate SAT issued to you.", source="pac", http_status=500),
    Code("T222", "Producción no arranca sin una llave maestra propia: configure TIMBRA_MASTER_KEY (base64 de 32 "
                 "bytes aleatorios), que no sea la del sandbox ni una trivial.",
         "Production does not start without a master key of its own: set TIMBRA_MASTER_KEY (base64 of 32 random "
         "bytes), neither the sandbox's nor a trivial one.", source="pac", http_status=500),
    Code("T223", "Producción no arranca con cuentas de demostración en la base de datos (sus contraseñas se "
                 "mostraron en pantalla): use una base de datos nueva para producción.",
         "Production does not start with demo accounts in the database (their passwords were shown on screen): "
         "use a new database for production.", source="pac", http_status=500),
    Code("T224", "Demasiadas API keys inválidas desde esta dirección; espere antes de volver a intentar "
                 "(vea Retry-After).",
         "Too many invalid API keys from this address; wait before trying again (see Retry-After).",
         http_status=429),
    Code("T230", "El XML de este CFDI ya no se conserva: la política de retención del PAC lo depuró (sus datos, "
                 "estado y acuses siguen disponibles).",
         "This CFDI's XML is no longer kept: the PAC's retention policy purged it (its data, status and acuses "
         "are still available).", http_status=410),
    Code("T231", "No se pudo hacer o restaurar la copia de seguridad.", "The backup could not be made or restored.",
         source="pac", http_status=500),
    Code("T232", "Servicio no disponible por un momento: el almacén de documentos (S3) no responde. No se guardó "
                 "ni cobró nada de esta solicitud; reintente (vea Retry-After).",
         "Service unavailable for a moment: the document store (S3) does not answer. Nothing of this request "
         "was stored or charged; retry (see Retry-After).", source="pac", http_status=503),
    # The printed CFDI (representación impresa) and the account's branding.
    Code("T190", "Logo inválido: se espera una imagen PNG o JPEG en base64.",
         "Invalid logo: a PNG or JPEG image in base64 is expected.", http_status=422),
    Code("T191", "El logo excede el máximo: 512 KB y 4000 x 4000 píxeles.",
         "The logo is too large: at most 512 KB and 4000 x 4000 pixels.", http_status=413),
    Code("T192", "Color inválido: se espera #RRGGBB (p. ej. #1F4E79).",
         "Invalid colour: #RRGGBB expected (e.g. #1F4E79).", http_status=422),
    Code("T900", "Error interno del PAC.", "Internal PAC error.", source="pac", http_status=500),
]

CODES: dict[str, Code] = {c.code: c for c in _TABLE}

# SAT's cancellation service (CancelaCFD and its companions), SAT's texts first. HTTP: the per-UUID codes are
# answers that come back, one per folio, in a 200; the request-level ones (300-312) refuse the whole request.
_CANCELLATION = [
    # Cancelacion: EstatusUUID, one per Folio.
    Code("201", "Solicitud de cancelación exitosa.",
         "Cancellation request accepted (the CFDI is not cancelled until SAT finishes).", "sat", 200),
    Code("202", "Folio fiscal previamente cancelado.", "The UUID was already cancelled.", "sat", 200),
    Code("203", "Folio fiscal no corresponde al emisor.", "The UUID does not belong to the emisor.", "sat", 200),
    Code("204", "Folio fiscal no aplicable a cancelación.", "The UUID cannot be cancelled.", "sat", 200),
    Code("205", "Folio fiscal no existente.",
         "The UUID does not exist at SAT (a new UUID can take up to 48 h to appear).", "sat", 200),
    Code("206", "UUID no corresponde a un CFDI del sector primario.", "The UUID is not a sector primario CFDI.",
         "sat", 200),
    Code("207", "No se especificó el motivo de cancelación o el motivo no es válido.",
         "The Motivo is missing or invalid.", "sat", 200),
    Code("208", "Folio Sustitución inválido: el motivo 01 requiere el UUID del CFDI del mismo emisor que "
                "sustituye al cancelado.",
         "Invalid FolioSustitucion: Motivo 01 requires the UUID of the emisor's CFDI that replaces the "
         "cancelled one.", "sat", 200),
    Code("209", "Folio Sustitución no requerido: solo el motivo 01 lleva FolioSustitucion.",
         "FolioSustitucion not required: only Motivo 01 carries a FolioSustitucion.", "sat", 200),
    Code("210", "La fecha de solicitud de cancelación es mayor a la fecha de declaración.",
         "The cancellation request is after the deadline of the annual tax return of the CFDI's year.",
         "sat", 200),
    Code("211", "La fecha de solicitud de cancelación límite para factura global.",
         "The cancellation request is past the deadline for a factura global.", "sat", 200),
    Code("212", "Relación no válida o inexistente.",
         "The relation is invalid or does not exist (the substitute must relate to the cancelled CFDI with "
         "TipoRelacion 04).", "sat", 200),
    # Cancelacion and SolicitudAceptacionRechazo: CodEstatus of the whole request.
    Code("300", "Usuario no válido.", "Invalid user.", "sat", 401),
    Code("301", "XML mal formado.", "Malformed XML: the request is not well-formed or does not follow SAT's "
                                    "schema.", "sat", 400),
    Code("302", "Sello mal formado.", "The request's signature is malformed or invalid.", "sat", 422),
    Code("303", "Sello no corresponde al RFC emisor.",
         "The signature does not belong to the RFC: the certificate's RFC is another one.", "sat", 422),
    Code("304", "Certificado revocado o caduco.",
         "The certificate is revoked or expired (or not valid yet at the request's Fecha).", "sat", 422),
    Code("305", "Certificado inválido.", "Invalid certificate.", "sat", 422),
    Code("306", "El certificado no es de tipo CSD.", "The certificate is not a CSD.", "sat", 422),
    Code("308", "Certificado no expedido por el SAT.", "The certificate was not issued by SAT.", "sat", 422),
    Code("309", "Certificado inválido.", "Invalid certificate.", "sat", 422),
    Code("310", "CSD inválido: la solicitud debe firmarse con un Certificado de Sello Digital (CSD), no con la "
                "e.firma.",
         "Invalid CSD: the request must be signed with a digital seal certificate (CSD), not with the e.firma.",
         "sat", 422),
    Code("311", "Motivo inválido: se espera 01, 02, 03 o 04.", "Invalid Motivo: 01, 02, 03 or 04 expected.",
         "sat", 422),
    Code("312", "UUID no relacionado de acuerdo a la clave de motivo de cancelación.",
         "The UUID is not related as the Motivo requires.", "sat", 422),
    # SolicitudAceptacionRechazo (the receptor's answer): one per UUID.
    Code("1000", "Se recibió la respuesta de la petición de forma exitosa.",
         "The answer to the cancellation request was received.", "sat", 200),
    Code("1001", "No existen peticiones de cancelación en espera de respuesta para el UUID.",
         "There is no cancellation request waiting for an answer for the UUID.", "sat", 200),
    Code("1002", "Ya se recibió una respuesta para la petición de cancelación del UUID.",
         "The cancellation request of the UUID was already answered.", "sat", 200),
    Code("1003", "Sello no corresponde al RFC receptor.",
         "The signature does not belong to the receptor's RFC.", "sat", 200),
    Code("1004", "Existen más de una petición de cancelación para el mismo UUID.",
         "There is more than one cancellation request for the same UUID.", "sat", 200),
    Code("1005", "El UUID es nulo no posee el formato correcto.", "The UUID is missing or malformed.", "sat", 200),
    Code("1006", "Se rebasó el número máximo de solicitudes permitidas.",
         "The maximum number of answers in one request was exceeded.", "sat", 200),
    # ConsultaPendientes (the receptor's pending requests).
    Code("1100", "Se obtuvieron las peticiones del RFC receptor de forma exitosa.",
         "The receptor's pending cancellation requests were retrieved.", "sat", 200),
    Code("1101", "No existen peticiones para el RFC receptor.",
         "There are no pending cancellation requests for the receptor's RFC.", "sat", 200),
]

CANCELLATION_CODES: dict[str, Code] = {c.code: c for c in _CANCELLATION}


def error(code: str, *, detail: dict | None = None, message: str | None = None, message_en: str | None = None,
          findings: list[Finding] | None = None):
    """A TimbraError for one of this table's codes, with its texts and source. A `message` that says more
    than the table gives its English in `message_en`; without one, the English is the code's own text, so
    every error carries both languages."""
    from timbra.errors import TimbraError

    c = CODES[code]
    if code == "T103" and message is None and detail:
        message, message_en = _not_found(detail)
    return TimbraError(code, message or c.es, source=c.source, message_en=message_en or c.en,
                       detail=detail, findings=findings)


def cancellation_error(code: str, *, detail: dict | None = None, message: str | None = None,
                       message_en: str | None = None) -> TimbraError:
    """A TimbraError for one of SAT's cancellation service codes (CANCELLATION_CODES, not the stamping table:
    a 303 here is the cancellation's "Sello no corresponde al RFC emisor"), with its texts and source."""
    c = CANCELLATION_CODES[code]
    return TimbraError(code, message or c.es, source=c.source, message_en=message_en or c.en, detail=detail)


def cancellation_text(code: str) -> tuple[str, str]:
    """(es-MX, en) text of a cancellation service code; KeyError for a code SAT's service does not answer."""
    c = CANCELLATION_CODES[code]
    return c.es, c.en


# T103 says what was not found, from the detail's first key it knows.
_NOT_FOUND = {"uuid": ("CFDI no encontrado", "CFDI not found"),
              "account_id": ("Cuenta no encontrada", "Account not found"),
              "parent_id": ("Cuenta padre no encontrada", "Parent account not found"),
              "csd_id": ("CSD no encontrado", "CSD not found"),
              "key_id": ("API key no encontrada", "API key not found"),
              "referencia": ("Referencia no encontrada", "referencia not found"),
              "path": ("Ruta no encontrada", "Route not found")}


def codes_markdown() -> str:
    """SAT's stamping codes and timbra's own as a Markdown table (the README's, kept in step by a test);
    the matrix codes (CFDI40xxx, CRP, NOM, CP) are in docs/validations.md."""
    return _markdown(_TABLE)


def cancellation_codes_markdown() -> str:
    """SAT's cancellation service codes as a Markdown table (the README's second one)."""
    return _markdown(_CANCELLATION)


def _markdown(table: list[Code]) -> str:
    lines = ["| código | HTTP | origen | mensaje | message |", "|---|---|---|---|---|"]
    for c in table:
        es, en = (t.replace("|", "\\|") for t in (c.es, c.en))
        lines.append(f"| `{c.code}` | {c.http_status} | {c.source} | {es} | {en} |")
    return "\n".join(lines) + "\n"


def _not_found(detail: dict) -> tuple[str | None, str | None]:
    for key, (es, en) in _NOT_FOUND.items():
        if key in detail:
            return f"{es}: {detail[key]}", f"{en}: {detail[key]}"
    return None, None


def http_status(code: str) -> int:
    c = CODES.get(code)
    if c is not None:
        return c.http_status
    # SAT's matrix codes: the document is understood but not acceptable; likewise a cancellation code timbra
    # raises itself (208, 209, 310, 311...: the request is refused before SAT, not answered per folio)
    return 422


def finding(code: str, node: str = "", *, detail: str | None = None, value: str | None = None,
            expected: str | None = None, detail_en: str | None = None) -> Finding:
    """A finding for one of the codes of this table or of SAT's matrices."""
    c = CODES.get(code)
    if c is not None:
        return Finding(code, c.es, node, value, expected, detail, c.en, detail_en)
    return Finding(code, matrix_text(code), node, value, expected, detail, None, detail_en)


@cache
def matrix_text(code: str) -> str:
    from timbra.sat.matrices import matrix_texts

    return matrix_texts().get(code, code)


# pydantic's error types (a request's JSON, query or path parameters) in Spanish; `{...}` are pydantic's ctx.
_PYDANTIC_ES = {
    "missing": "Falta este campo.",
    "extra_forbidden": "Campo no admitido.",
    "string_type": "Se espera un texto.",
    "string_too_short": "El texto es demasiado corto (mínimo {min_length}).",
    "string_too_long": "El texto es demasiado largo (máximo {max_length}).",
    "string_pattern_mismatch": "El texto no tiene la forma esperada ({pattern}).",
    "string_unicode": "Se espera un texto Unicode válido.",
    "int_type": "Se espera un número entero.",
    "int_parsing": "Se espera un número entero (dígitos 0-9).",
    "int_parsing_size": "El número entero es demasiado grande.",
    "int_from_float": "Se espera un número entero, sin decimales.",
    "float_type": "Se espera un número.",
    "float_parsing": "Se espera un número.",
    "decimal_type": "Se espera un número decimal.",
    "decimal_parsing": "Se espera un número decimal.",
    "decimal_max_digits": "El número tiene demasiados dígitos (máximo {max_digits}).",
    "decimal_max_places": "El número tiene demasiados decimales (máximo {decimal_places}).",
    "decimal_whole_digits": "El número tiene demasiados dígitos enteros.",
    "finite_number": "Se espera un número finito.",
    "greater_than": "Debe ser mayor que {gt}.",
    "greater_than_equal": "Debe ser mayor o igual que {ge}.",
    "less_than": "Debe ser menor que {lt}.",
    "less_than_equal": "Debe ser menor o igual que {le}.",
    "bool_type": "Se espera true o false.",
    "bool_parsing": "Se espera true o false.",
    "literal_error": "Valor no admitido; se espera uno de: {expected}.",
    "enum": "Valor no admitido; se espera uno de: {expected}.",
    "list_type": "Se espera una lista.",
    "tuple_type": "Se espera una lista.",
    "dict_type": "Se espera un objeto.",
    "model_type": "Se espera un objeto.",
    "model_attributes_type": "Se espera un objeto.",
    "too_short": "La lista tiene muy pocos elementos (mínimo {min_length}).",
    "too_long": "La lista tiene demasiados elementos (máximo {max_length}).",
    "date_type": "Se espera una fecha AAAA-MM-DD.",
    "date_parsing": "Se espera una fecha AAAA-MM-DD.",
    "date_from_datetime_parsing": "Se espera una fecha AAAA-MM-DD.",
    "datetime_type": "Se espera una fecha y hora ISO 8601.",
    "datetime_parsing": "Se espera una fecha y hora ISO 8601.",
    "datetime_from_date_parsing": "Se espera una fecha y hora ISO 8601.",
    "timezone_aware": "Indique la zona horaria (p. ej. Z o -06:00).",
    "json_invalid": "JSON inválido.",
    "json_type": "JSON inválido.",
    "value_error": "Valor inválido.",
    "assertion_error": "Valor inválido.",
    "union_tag_invalid": "Tipo de objeto no admitido.",
    "union_tag_not_found": "Falta el campo que dice el tipo del objeto.",
    "recursion_loop": "El objeto se anida demasiado.",
}


def validation_message(e: dict) -> tuple[str, str]:
    """(es, en) for one pydantic validation error (`ValidationError.errors()` item): ours in Spanish,
    pydantic's own text in English."""
    en = str(e.get("msg") or "Invalid value.")
    template = _PYDANTIC_ES.get(str(e.get("type") or ""))
    if template is None:
        return "Valor inválido.", en
    try:
        return template.format(**{k: str(v)[:120] for k, v in (e.get("ctx") or {}).items()}), en
    except (KeyError, IndexError, ValueError):
        return template.split(" (")[0].split(";")[0].rstrip(".") + ".", en
