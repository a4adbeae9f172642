"""The table of every code a client can get, with Spanish (first) and English text.

SAT's stamping codes (301-308, 401-403) keep SAT's numbers and meaning. The CFDI 4.0/3.3 matrix codes
(CFDI40101...) take their Spanish text from SAT's matrix file itself (timbra.sat.matrices), so the words
are SAT's own. timbra's own codes start with "T".
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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
    Code("T900", "Error interno del PAC.", "Internal PAC error.", source="pac", http_status=500),
]

CODES: dict[str, Code] = {c.code: c for c in _TABLE}


def error(code: str, *, detail: dict | None = None, message: str | None = None,
          findings: list[Finding] | None = None):
    """A TimbraError for one of this table's codes, with its texts and source."""
    from timbra.errors import TimbraError

    c = CODES[code]
    return TimbraError(code, message or c.es, source=c.source, message_en=None if message else c.en,
                       detail=detail, findings=findings)


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


@lru_cache(maxsize=None)
def matrix_text(code: str) -> str:
    from timbra.sat.matrices import matrix_texts

    return matrix_texts().get(code, code)
