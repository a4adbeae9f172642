"""SAT's XML schemas and the cadena original stylesheets, compiled once per process.

The catalog XSDs shipped here are lean: their enumerations were moved to in-memory sets
(timbra.sat.catalogs), because libxml2 needs ~0.8 ms per concepto to check them and builds a 64 KB error
message for one bad ClaveProdServ. The structure of every schema is SAT's.
"""
from __future__ import annotations

import threading
from functools import cache

from lxml import etree

from timbra.sat import DATA, XML_ROOT

_lock = threading.Lock()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@cache
def schema(version: str) -> etree.XMLSchema:
    """The schema set for "4.0" or "3.3": the Comprobante, TFD 1.1 and every complement SAT publishes."""
    name = {"4.0": "cfdi40.xsd", "3.3": "cfdi33.xsd"}[version]
    with _lock:
        return etree.XMLSchema(etree.parse(str(DATA / "schemas" / name), _parser()))


_XSLT = {
    "4.0": "4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt",
    "3.3": "3/cadenaoriginal_3_3/cadenaoriginal_3_3.xslt",
    "tfd1.1": "TimbreFiscalDigital/cadenaoriginal_TFD_1_1.xslt",
}


_local = threading.local()


def cadena_xslt(name: str) -> etree.XSLT:
    """A compiled cadena stylesheet ("4.0", "3.3", "tfd1.1") for this thread.

    Each thread compiles its own copy once: lxml's XSLT objects keep per-run state, and a copy per thread
    avoids any sharing question for the few milliseconds a compile costs.
    """
    cache = getattr(_local, "xslt", None)
    if cache is None:
        cache = _local.xslt = {}
    x = cache.get(name)
    if x is None:
        access = etree.XSLTAccessControl(read_file=True, write_file=False, create_dir=False,
                                         read_network=False, write_network=False)
        x = cache[name] = etree.XSLT(etree.parse(str(XML_ROOT / _XSLT[name]), _parser()),
                                     access_control=access)
    return x
