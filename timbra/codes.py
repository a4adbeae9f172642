"""The table of every code a client can get, with Spanish (first) and English text.

SAT's stamping codes (301-308, 401-403) keep SAT's numbers and meaning. The CFDI 4.0/3.3 matrix codes
(CFDI40101...) take their Spanish text from SAT's matrix file itself (timbra.sat.matrices), so the words
are SAT's own. timbra's own codes start with "T".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from timbra.errors import Finding, Source


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
    # SAT's cancellation codes (CancelaCFD) that the stamping table does not already have.
    Code("208", "Folio Sustitución inválido: el motivo 01 requiere el UUID del CFDI que sustituye al cancelado.",
         "Invalid FolioSustitucion: Motivo 01 requires the UUID of the CFDI that replaces the cancelled one."),
    Code("209", "Folio Sustitución no requerido: solo el motivo 01 lleva FolioSustitucion.",
         "FolioSustitucion not required: only Motivo 01 carries a FolioSustitucion."),
    Code("310", "CSD inválido: la solicitud debe firmarse con el Certificado de Sello Digital (CSD) del emisor, "
                "no con la e.firma.",
         "Invalid CSD: the request must be signed with the emisor's digital seal certificate (CSD), not with "
         "the e.firma."),
    Code("311", "Motivo inválido: se espera 01, 02, 03 o 04.", "Invalid Motivo: 01, 02, 03 or 04 expected."),
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
    Code("T900", "Error interno del PAC.", "Internal PAC error.", source="pac", http_status=500),
]

CODES: dict[str, Code] = {c.code: c for c in _TABLE}


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
    lines = ["| código | HTTP | origen | mensaje | message |", "|---|---|---|---|---|"]
    for c in _TABLE:
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
    return 422  # SAT's matrix codes: the document is understood but not acceptable


def finding(code: str, node: str = "", *, detail: str | None = None, value: str | None = None,
            expected: str | None = None) -> Finding:
    """A finding for one of the codes of this table or of SAT's matrices."""
    c = CODES.get(code)
    if c is not None:
        return Finding(code, c.es, node, value, expected, detail, c.en)
    return Finding(code, matrix_text(code), node, value, expected, detail)


@cache
def matrix_text(code: str) -> str:
    from timbra.sat.matrices import matrix_texts

    return matrix_texts().get(code, code)
