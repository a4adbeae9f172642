"""libxml2's errors in timbra's words, Spanish and English.

libxml2 (through lxml) reports a syntax or schema error as an English sentence of its own ("Opening and ending
tag mismatch: ...", "Element '{http://...}Comprobante', attribute 'Total': '1.2' is not a valid value of the
atomic type 't_Importe'."). A client never reads those: each error is translated from its libxml2 type
(lxml's `type_name`, e.g. ERR_TAG_NAME_MISMATCH, SCHEMAV_CVC_PATTERN_VALID) to a sentence of ours that names
the line, the element, the attribute and what was expected; an error type without a sentence of its own gets
a general one with its line and column. The names and values quoted come from the document (short, cut).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

_MAX_QUOTE = 60

# --- syntax (well-formedness) errors: (es, en) by libxml2 error type ------------------------------------------

_SYNTAX: dict[str, tuple[str, str]] = {
    "ERR_DOCUMENT_EMPTY": ("el documento está vacío", "the document is empty"),
    "ERR_DOCUMENT_START": ("el documento no empieza con un elemento XML", "the document does not start with an "
                                                                           "XML element"),
    "ERR_DOCUMENT_END": ("hay contenido después del elemento raíz", "there is content after the root element"),
    "ERR_EXTRA_CONTENT": ("hay contenido después del elemento raíz", "there is content after the root element"),
    "ERR_TAG_NAME_MISMATCH": ("la etiqueta de cierre no corresponde a la de apertura",
                              "a closing tag does not match its opening tag"),
    "ERR_TAG_NOT_FINISHED": ("un elemento no se cierra antes del fin del documento",
                             "an element is not closed before the end of the document"),
    "ERR_LTSLASH_REQUIRED": ("falta la etiqueta de cierre de un elemento", "an element's closing tag is missing"),
    "ERR_GT_REQUIRED": ("falta '>' al final de una etiqueta", "'>' is missing at the end of a tag"),
    "ERR_NAME_REQUIRED": ("se esperaba el nombre de un elemento o atributo", "an element or attribute name was "
                                                                             "expected"),
    "ERR_ATTRIBUTE_REDEFINED": ("un atributo aparece dos veces en el mismo elemento",
                                "an attribute appears twice in the same element"),
    "ERR_ATTRIBUTE_NOT_STARTED": ("el valor de un atributo debe ir entre comillas",
                                  "an attribute value must be quoted"),
    "ERR_ATTRIBUTE_NOT_FINISHED": ("el valor de un atributo no cierra sus comillas",
                                   "an attribute value does not close its quotes"),
    "ERR_ATTRIBUTE_WITHOUT_VALUE": ("un atributo no tiene valor", "an attribute has no value"),
    "ERR_SPACE_REQUIRED": ("falta un espacio entre atributos", "a space is missing between attributes"),
    "ERR_LT_IN_ATTRIBUTE": ("un valor de atributo contiene '<' sin escapar",
                            "an attribute value holds an unescaped '<'"),
    "ERR_LT_REQUIRED": ("se esperaba '<'", "'<' was expected"),
    "ERR_INVALID_CHAR": ("el documento contiene un carácter que XML no admite (p. ej. un carácter de control)",
                         "the document holds a character XML does not allow (e.g. a control character)"),
    "ERR_INVALID_CHARREF": ("una referencia de carácter (&#...;) no es válida en XML",
                            "a character reference (&#...;) is not valid in XML"),
    "ERR_INVALID_DEC_CHARREF": ("una referencia de carácter (&#...;) no es válida en XML",
                                "a character reference (&#...;) is not valid in XML"),
    "ERR_INVALID_HEX_CHARREF": ("una referencia de carácter (&#x...;) no es válida en XML",
                                "a character reference (&#x...;) is not valid in XML"),
    "ERR_UNDECLARED_ENTITY": ("una entidad (&...;) no está declarada; solo se admiten &amp; &lt; &gt; &quot; "
                              "&apos;", "an entity (&...;) is not declared; only &amp; &lt; &gt; &quot; &apos; "
                                        "are accepted"),
    "WAR_UNDECLARED_ENTITY": ("una entidad (&...;) no está declarada", "an entity (&...;) is not declared"),
    "ERR_ENTITYREF_SEMICOL_MISSING": ("falta ';' al final de una referencia (&...;)",
                                      "';' is missing at the end of a reference (&...;)"),
    "ERR_ENTITY_LOOP": ("las entidades del documento se expanden sin fin", "the document's entities expand "
                                                                           "endlessly"),
    "ERR_RESERVED_XML_NAME": ("la declaración <?xml ...?> solo puede ir al principio del documento",
                              "the <?xml ...?> declaration may only be at the start of the document"),
    "ERR_XMLDECL_NOT_FINISHED": ("la declaración <?xml ...?> no está completa",
                                 "the <?xml ...?> declaration is not complete"),
    "ERR_PI_NOT_FINISHED": ("una instrucción de procesamiento <?...?> no se cierra",
                            "a processing instruction <?...?> is not closed"),
    "ERR_COMMENT_NOT_FINISHED": ("un comentario <!-- --> no se cierra", "a comment <!-- --> is not closed"),
    "ERR_CDATA_NOT_FINISHED": ("una sección CDATA no se cierra", "a CDATA section is not closed"),
    "ERR_MISPLACED_CDATA_END": ("']]>' aparece fuera de una sección CDATA", "']]>' appears outside a CDATA "
                                                                            "section"),
    "ERR_UNSUPPORTED_ENCODING": ("la codificación declarada no se admite; el SAT exige UTF-8",
                                 "the declared encoding is not supported; SAT requires UTF-8"),
    "ERR_INVALID_ENCODING": ("el documento no es UTF-8 válido", "the document is not valid UTF-8"),
    "ERR_VERSION_MISSING": ("la declaración <?xml ...?> no tiene version", "the <?xml ...?> declaration has no "
                                                                           "version"),
    "NS_ERR_UNDEFINED_NAMESPACE": ("un prefijo de espacio de nombres no está declarado",
                                   "a namespace prefix is not declared"),
    "NS_ERR_QNAME": ("un nombre calificado (prefijo:nombre) no es válido", "a qualified name (prefix:name) is "
                                                                           "not valid"),
    "NS_ERR_ATTRIBUTE_REDEFINED": ("un atributo aparece dos veces en el mismo elemento",
                                   "an attribute appears twice in the same element"),
    "NS_ERR_XML_NAMESPACE": ("el prefijo xml o xmlns se usa de forma no permitida",
                             "the xml or xmlns prefix is used in a way not allowed"),
    "NS_ERR_EMPTY": ("un espacio de nombres está vacío", "a namespace is empty"),
    "ERR_NS_DECL_ERROR": ("una declaración de espacio de nombres no es válida",
                          "a namespace declaration is not valid"),
    "ERR_URI_REQUIRED": ("una declaración de espacio de nombres no es válida",
                         "a namespace declaration is not valid"),
}
_SYNTAX_DEFAULT = ("el documento no es XML bien formado", "the document is not well-formed XML")


@dataclass(frozen=True)
class XmlError:
    """One libxml2 error, translated: `es` and `en` are whole sentences (no trailing period); `node` the
    element's path when libxml2 knows it; `value` and `expected` what the schema refused and wanted."""

    es: str
    en: str
    line: int = 0
    node: str = ""
    value: str | None = None
    expected: str | None = None


def _quote(text: str | None) -> str:
    text = "".join(c if c.isprintable() else "?" for c in (text or ""))
    return text if len(text) <= _MAX_QUOTE else text[:_MAX_QUOTE] + "…"


def _where(line: int, column: int | None) -> tuple[str, str]:
    if not line:
        return "", ""
    if column:
        return f" (línea {line}, columna {column})", f" (line {line}, column {column})"
    return f" (línea {line})", f" (line {line})"


def syntax_error(exc: etree.XMLSyntaxError) -> XmlError:
    """A parser error: what is wrong, in our words, with line and column."""
    type_name = _type_name(exc)
    es, en = _SYNTAX.get(type_name, _SYNTAX_DEFAULT)
    line = exc.lineno or 0
    w_es, w_en = _where(line, exc.offset)
    return XmlError(es + w_es, en + w_en, line=line)


def _type_name(exc: etree.XMLSyntaxError) -> str:
    try:
        return etree.ErrorTypes._getName(exc.code, "")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - an unknown code: the general sentence
        return ""


# --- schema (XSD) errors -----------------------------------------------------------------------------------

_ELEMENT_RE = re.compile(r"Element '(?:\{[^}]*\})?([^']*)'")
_ATTRIBUTE_RE = re.compile(r"attribute '(?:\{[^}]*\})?([^']*)'")
_ATTR_MSG_RE = re.compile(r"The attribute '(?:\{[^}]*\})?([^']*)'")
_VALUE_RE = re.compile(r"(?:The value|value) '((?:[^']|'(?! is| has))*)'|: '((?:[^']|'(?! is))*)' is not a valid")
_SET_RE = re.compile(r"set \{([^}]*)\}")
_PATTERN_RE = re.compile(r"pattern '([^']*)'")
_BOUND_RE = re.compile(r"value allowed \('([^']*)'\)")
_LIMIT_LENGTH_RE = re.compile(r"(?:maximum|minimum) length of '(\d+)'")
_LENGTH_RE = re.compile(r"(?:allowed|expected) length of '(\d+)'|length of '(\d+)'")
_DIGITS_RE = re.compile(r"digits .*? \('?(\d+)'?\)|number of (?:fraction )?digits of '(\d+)'")
_TYPE_RE = re.compile(r"atomic type '(?:\{[^}]*\})?(?:xs:)?([^']*)'")
_EXPECTED_RE = re.compile(r"Expected is(?: one of)? \( ([^)]*) \)")

# (es, en) by type; {e} the element, {a} the attribute, {v} the value, {x} what is expected.
_SCHEMA: dict[str, tuple[str, str]] = {
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": ("el valor {v} de {ea} no es del tipo {x} que exige el esquema",
                                         "the value {v} of {ea} is not of the type {x} the schema requires"),
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_2": ("el valor {v} de {ea} no es del tipo que exige el esquema",
                                         "the value {v} of {ea} is not of the type the schema requires"),
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_3": ("el valor {v} de {ea} no es del tipo que exige el esquema",
                                         "the value {v} of {ea} is not of the type the schema requires"),
    "SCHEMAV_CVC_ATTRIBUTE_3": ("el valor {v} de {ea} no es válido", "the value {v} of {ea} is not valid"),
    "SCHEMAV_CVC_ELT_5_2_2": ("el contenido de {ea} no es válido", "the content of {ea} is not valid"),
    "SCHEMAV_CVC_PATTERN_VALID": ("el valor {v} de {ea} no sigue el patrón {x}",
                                  "the value {v} of {ea} does not follow the pattern {x}"),
    "SCHEMAV_CVC_ENUMERATION_VALID": ("el valor {v} de {ea} no es uno de los admitidos ({x})",
                                      "the value {v} of {ea} is not one of those accepted ({x})"),
    "SCHEMAV_CVC_MININCLUSIVE_VALID": ("el valor {v} de {ea} es menor que el mínimo {x}",
                                       "the value {v} of {ea} is less than the minimum {x}"),
    "SCHEMAV_CVC_MINEXCLUSIVE_VALID": ("el valor {v} de {ea} debe ser mayor que {x}",
                                       "the value {v} of {ea} must be greater than {x}"),
    "SCHEMAV_CVC_MAXINCLUSIVE_VALID": ("el valor {v} de {ea} es mayor que el máximo {x}",
                                       "the value {v} of {ea} is greater than the maximum {x}"),
    "SCHEMAV_CVC_MAXEXCLUSIVE_VALID": ("el valor {v} de {ea} debe ser menor que {x}",
                                       "the value {v} of {ea} must be less than {x}"),
    "SCHEMAV_CVC_LENGTH_VALID": ("el valor {v} de {ea} debe medir {x} caracteres",
                                 "the value {v} of {ea} must be {x} characters long"),
    "SCHEMAV_CVC_MINLENGTH_VALID": ("el valor {v} de {ea} mide menos de {x} caracteres",
                                    "the value {v} of {ea} is shorter than {x} characters"),
    "SCHEMAV_CVC_MAXLENGTH_VALID": ("el valor {v} de {ea} mide más de {x} caracteres",
                                    "the value {v} of {ea} is longer than {x} characters"),
    "SCHEMAV_CVC_TOTALDIGITS_VALID": ("el valor {v} de {ea} tiene más de {x} dígitos",
                                      "the value {v} of {ea} has more than {x} digits"),
    "SCHEMAV_CVC_FRACTIONDIGITS_VALID": ("el valor {v} de {ea} tiene más de {x} decimales",
                                         "the value {v} of {ea} has more than {x} decimals"),
    "SCHEMAV_CVC_COMPLEX_TYPE_4": ("falta el atributo obligatorio {a} en {e}",
                                   "the required attribute {a} is missing in {e}"),
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": ("el atributo {a} no se admite en {e}",
                                       "the attribute {a} is not allowed in {e}"),
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": ("el atributo {a} no se admite en {e}",
                                       "the attribute {a} is not allowed in {e}"),
    "SCHEMAV_CVC_COMPLEX_TYPE_2_1": ("el elemento {e} debe estar vacío", "the element {e} must be empty"),
    "SCHEMAV_CVC_COMPLEX_TYPE_2_3": ("el elemento {e} no admite texto, solo elementos",
                                     "the element {e} accepts no text, only elements"),
    "SCHEMAV_CVC_COMPLEX_TYPE_2_4": ("el elemento {e} no se espera en este lugar o le falta un hijo{xx}",
                                     "the element {e} is not expected here or lacks a child{xx}"),
    "SCHEMAV_ELEMENT_CONTENT": ("el elemento {e} no se espera en este lugar o le falta un hijo{xx}",
                                "the element {e} is not expected here or lacks a child{xx}"),
    "SCHEMAV_CVC_ELT_1": ("el elemento {e} no está declarado en el esquema", "the element {e} is not declared "
                                                                              "in the schema"),
    "SCHEMAV_CVC_ELT_4_2": ("el tipo xsi:type de {e} no está en el esquema", "the xsi:type of {e} is not in "
                                                                               "the schema"),
    "SCHEMAV_CVC_ELT_4_3": ("el tipo xsi:type de {e} no está en el esquema", "the xsi:type of {e} is not in "
                                                                               "the schema"),
    "SCHEMAV_CVC_IDC": ("el valor {v} de {ea} no es único", "the value {v} of {ea} is not unique"),
    "SCHEMAV_CVC_WILDCARD": ("el elemento {e} no se admite en este lugar", "the element {e} is not allowed here"),
    "SCHEMAV_CVC_AU": ("el valor {v} de {ea} no es válido", "the value {v} of {ea} is not valid"),
    "SCHEMAV_INTERNAL": ("el esquema no pudo validar {e}", "the schema could not validate {e}"),
}
_SCHEMA_DEFAULT = ("{ea} no cumple con el esquema del SAT", "{ea} does not follow SAT's schema")


def _first(m: re.Match | None) -> str | None:
    if m is None:
        return None
    return next((g for g in m.groups() if g is not None), None)


def schema_error(err: etree._LogEntry, prefixes: dict[str, str] | None = None) -> XmlError:
    """An XSD validation error: the element and attribute it names, the value refused and what was
    expected, in our words; `node` is libxml2's path of the element (namespaced names as prefixes)."""
    message = err.message or ""
    element = _first(_ELEMENT_RE.search(message)) or ""
    attribute = _first(_ATTRIBUTE_RE.search(message)) or _first(_ATTR_MSG_RE.search(message))
    value = _first(_VALUE_RE.search(message))
    expected = (_first(_SET_RE.search(message)) or _first(_PATTERN_RE.search(message))
                or _first(_BOUND_RE.search(message)) or _first(_LIMIT_LENGTH_RE.search(message))
                or _first(_LENGTH_RE.search(message))
                or _first(_DIGITS_RE.search(message)) or _first(_TYPE_RE.search(message)))
    children = _first(_EXPECTED_RE.search(message))
    if children:
        children = ", ".join(re.sub(r"\{[^}]*\}", "", c.strip()) for c in children.split(","))
    es, en = _SCHEMA.get(err.type_name or "", _SCHEMA_DEFAULT)
    e = _quote(element) or "?"
    a = _quote(attribute) if attribute else ""
    v = f"'{_quote(value)}'" if value is not None else ""
    x = _quote(expected) if expected else ""
    fields_es = {"e": e, "a": a, "v": v, "x": x or "?", "ea": f"{e}@{a}" if a else e,
                 "xx": f" (se espera {_quote(children)})" if children else ""}
    fields_en = {**fields_es, "xx": f" (expected {_quote(children)})" if children else ""}
    text_es, text_en = es.format(**fields_es), en.format(**fields_en)
    text_es, text_en = re.sub(r"\s+", " ", text_es).strip(), re.sub(r"\s+", " ", text_en).strip()
    w_es, w_en = _where(err.line, None)
    return XmlError(text_es + w_es, text_en + w_en, line=err.line or 0,
                    value=_quote(value) if value is not None else None, expected=x or (children and _quote(children))
                    or None)


def processing_finding_texts(exc: Exception) -> tuple[str, str]:
    """(es, en) for an lxml error while processing a parsed document (the cadena original's XSLT, a schema
    that cannot run): its kind, never libxml2's text."""
    kind = type(exc).__name__
    return (f"el documento no se pudo procesar con las hojas de transformación y esquemas del SAT ({kind})",
            f"the document could not be processed with SAT's transforms and schemas ({kind})")


LIBXML2_PHRASES = (
    "Opening and ending tag mismatch", "Element '{", "is not a valid value of the atomic type",
    "Premature end of data", "Extra content at the end", "StartTag:", "EndTag:", "Couldn't find end of",
    "parser error", "xmlParse", "is not accepted by the pattern", "is not an element of the set",
    "This element is not expected", "Missing child element", "is required but missing",
    "Document is empty", "Start tag expected", "AttValue:", "Specification mandates", "Entity '",
    "Char 0x", "PCDATA invalid", "Input is not proper UTF-8", "Excessive depth", "xmlSAX2",
    "huge input lookup", "Huge input lookup", "Resource limit exceeded",
)
"""English phrases of libxml2's that never reach a client (the hostile-input tests look for them)."""
