"""Copy SAT's published material from ../shared/sat into timbra/sat/data.

Run from the project root:  python scripts/import_sat_data.py [--shared ../shared]

What it writes (all committed, so the product never reads ../shared at run time):
  timbra/sat/data/xml/...        the XSD/XSLT closure needed for CFDI 4.0, 3.3, TFD 1.1 and every
                                 complement that SAT's cadena original XSLT includes; catalog XSDs are
                                 written "lean": enumerations removed (values go to catalogs.json.gz)
  timbra/sat/data/schemas/       wrapper XSDs importing a version's schema plus its complements
  timbra/sat/data/catalogs.json.gz
                                 catalog tables (phpcfdi SQL dumps + extra CSVs), the enumerations taken
                                 out of the catalog XSDs, and which attribute of which element uses which
                                 catalog type
  timbra/sat/data/certs/         SAT CA certificates (production and test)
  timbra/sat/data/matrices/      SAT's error matrices (TSV copies): the text of each CFDI40xxx code
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import shutil
import sqlite3
from pathlib import Path

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
XSL = "http://www.w3.org/1999/XSL/Transform"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "timbra" / "sat" / "data"
SITE = "www.sat.gob.mx/sitio_internet/cfd"

# Entry points of the closure (relative to xml/www.sat.gob.mx/sitio_internet/cfd).
XSLT_ROOTS = [
    "4/cadenaoriginal_4_0/cadenaoriginal_4_0.xslt",
    "3/cadenaoriginal_3_3/cadenaoriginal_3_3.xslt",
    "TimbreFiscalDigital/cadenaoriginal_TFD_1_1.xslt",
]
XSD_ROOTS = {
    "cfdi40": "4/cfdv40.xsd",
    "cfdi33": "3/cfdv33.xsd",
}
TFD_XSD = "TimbreFiscalDigital/TimbreFiscalDigitalv11.xsd"
# cfdv40.xsd and cfdv33.xsd declare Addenda as <xs:any/> with the default processContents="strict":
# any addenda in a namespace we have no schema for would fail. The Addenda is the contributor's, not
# SAT's; it is not in the cadena. We ship a copy with processContents="lax" for the Addenda only.
ADDENDA_PATCH = "lax"


def xslt_closure(src: Path, rel: str, seen: set[str]) -> None:
    if rel in seen:
        return
    seen.add(rel)
    tree = etree.parse(str(src / rel))
    for inc in tree.getroot().iter(f"{{{XSL}}}include", f"{{{XSL}}}import"):
        target = (Path(rel).parent / inc.get("href")).as_posix()
        xslt_closure(src, normalize(target), seen)


def xsd_closure(src: Path, rel: str, seen: set[str]) -> None:
    if rel in seen:
        return
    seen.add(rel)
    tree = etree.parse(str(src / rel))
    for inc in tree.getroot().iter(f"{{{XS}}}include", f"{{{XS}}}import", f"{{{XS}}}redefine"):
        loc = inc.get("schemaLocation")
        if not loc:
            continue
        if loc.startswith("http://"):
            raise SystemExit(f"{rel}: absolute schemaLocation {loc}")
        xsd_closure(src, normalize((Path(rel).parent / loc).as_posix()), seen)


def normalize(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            parts.pop()
        elif p not in ("", "."):
            parts.append(p)
    return "/".join(parts)


def complement_xsds(src: Path, cadena_xslt: str) -> list[str]:
    """The XSD next to each complement XSLT that a cadena original stylesheet includes."""
    tree = etree.parse(str(src / cadena_xslt))
    found = []
    for inc in tree.getroot().iter(f"{{{XSL}}}include"):
        rel = normalize((Path(cadena_xslt).parent / inc.get("href")).as_posix())
        if "cadenaoriginal_2_0" in rel:
            continue
        candidates = [rel[: -len(".xslt")] + ".xsd"]
        folder = src / Path(rel).parent
        candidates += sorted(p.relative_to(src).as_posix() for p in folder.glob("*.xsd"))
        stem = Path(rel).stem.lower()
        pick = None
        for c in candidates:
            if (src / c).exists() and Path(c).stem.lower() == stem:
                pick = c
                break
        if pick is None:  # file names differ in case or spelling: use the folder's XSD whose namespace the XSLT uses
            xslt_ns = set(etree.parse(str(src / rel)).getroot().nsmap.values())
            for c in candidates[1:]:
                if etree.parse(str(src / c)).getroot().get("targetNamespace") in xslt_ns:
                    pick = c
                    break
        if pick is None:  # SAT published hidrocarburospetroliferos.xsd at the tree's top, apart from its XSLT
            top = src / f"{Path(rel).stem}.xsd"
            pick = top.name if top.exists() else None
        if pick is None:
            raise SystemExit(f"no XSD found for {rel}")
        found.append(pick)
    return found


def lean_catalog(tree: etree._ElementTree) -> dict[str, list[str]]:
    """Strip enumerations from a catalog XSD in place; return {type name: values}."""
    enums: dict[str, list[str]] = {}
    for st in tree.getroot().findall(f"{{{XS}}}simpleType"):
        restriction = st.find(f"{{{XS}}}restriction")
        values = [e.get("value") for e in restriction.findall(f"{{{XS}}}enumeration")]
        if not values:
            continue
        for e in restriction.findall(f"{{{XS}}}enumeration"):
            restriction.remove(e)
        enums[st.get("name")] = values
        doc = st.find(f"{{{XS}}}annotation")
        if doc is not None:
            st.remove(doc)
    return enums


def catalog_bindings(src: Path, xsd_files: list[str], catalog_ns: set[str]) -> dict:
    """{namespace: {element: {attribute: "{catalog-ns}type"}}} for attributes typed by a catalog.

    An element name whose attribute has different catalogs in different places (CartaPorte's
    Contenedor under Maritimo and under FerroViario) is keyed "Parent/Element" instead.
    """
    entries: list[tuple[str, str, str, str, str]] = []
    for rel in xsd_files:
        root = etree.parse(str(src / rel)).getroot()
        tns = root.get("targetNamespace")
        if tns in catalog_ns or tns is None:
            continue
        named_types: dict[str, list[tuple[str, str]]] = {}
        for el in root.iter(f"{{{XS}}}element"):
            t = el.get("type")
            if t and el.get("name"):
                named_types.setdefault(t.split(":")[-1], []).append((parent_element(el), el.get("name")))
        for attr in root.iter(f"{{{XS}}}attribute"):
            qtype = attr.get("type")
            if qtype is None:
                r = attr.find(f"{{{XS}}}simpleType/{{{XS}}}restriction")
                qtype = r.get("base") if r is not None else None
            if not qtype or ":" not in qtype:
                continue
            prefix, local = qtype.split(":", 1)
            ns = attr.nsmap.get(prefix)
            if ns not in catalog_ns:
                continue
            owner = attr.getparent()
            places: list[tuple[str, str]] = []
            while owner is not None:
                if owner.tag == f"{{{XS}}}element" and owner.get("name"):
                    places = [(parent_element(owner), owner.get("name"))]
                    break
                if owner.tag == f"{{{XS}}}complexType" and owner.get("name"):
                    places = named_types.get(owner.get("name"), [])
                    break
                owner = owner.getparent()
            for parent, el_name in places:
                entries.append((tns, parent, el_name, attr.get("name"), f"{{{ns}}}{local}"))
    kinds: dict[tuple[str, str, str], set[str]] = {}
    for tns, _parent, el, attr, typ in entries:
        kinds.setdefault((tns, el, attr), set()).add(typ)
    out: dict[str, dict[str, dict[str, str]]] = {}
    for tns, parent, el, attr, typ in entries:
        key = el if len(kinds[(tns, el, attr)]) == 1 else f"{parent}/{el}"
        out.setdefault(tns, {}).setdefault(key, {})[attr] = typ
    return out


def parent_element(el: etree._Element) -> str:
    p = el.getparent()
    while p is not None:
        if p.tag == f"{{{XS}}}element" and p.get("name"):
            return p.get("name")
        p = p.getparent()
    return ""


def load_sql_catalogs(db_dir: Path) -> dict:
    con = sqlite3.connect(":memory:")
    for f in sorted((db_dir / "schemas").glob("*.sql")):
        con.executescript(f.read_text(encoding="utf-8"))
    for f in sorted((db_dir / "data").glob("*.sql")):
        con.executescript(f.read_text(encoding="utf-8"))
    tables = {}
    for (name,) in con.execute("select name from sqlite_master where type='table' order by name"):
        cur = con.execute(f'select * from "{name}"')
        cols = [d[0] for d in cur.description]
        rows = [list(r) for r in cur.fetchall()]
        if rows:
            tables[name] = {"columns": cols, "rows": rows}
    return tables


def load_csv(path: Path) -> dict:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        cols = next(reader)
        return {"columns": cols, "rows": [r for r in reader]}


def wrapper_xsd(imports: list[tuple[str, str]]) -> bytes:
    root = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    root.set("elementFormDefault", "qualified")
    for ns, loc in imports:
        imp = etree.SubElement(root, f"{{{XS}}}import")
        imp.set("namespace", ns)
        imp.set("schemaLocation", loc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# The complements' matrices come only as XLS; each becomes a TSV with one header for all of them.
MATRIX_XLS = {
    "MatrizDeErrores_CRP_V20_RevB.xls": "pagos20",
    "Matriz_Errores_Nomina_v12_RevD_20250221.xls": "nomina12",
    "Matriz_Errores_CCP_V31.xls": "cartaporte31",
    "Matriz_de_Errores_CCE_v2.0.xls": "cce20",
    "MatrizDeErrores_CFDI_Retenciones_v20.xls": "retenciones20",
}
MATRIX_COLUMNS = ("num", "elemento", "atributo", "validacion", "codigo", "descripcion", "aclaraciones")
_HEADER_ALIASES = {
    "num": ("num", "núm", "núm."), "elemento": ("elemento",), "atributo": ("atributo",),
    "validacion": ("validación", "caso de validación", "regla de validación"),
    "codigo": ("código error", "código de error"),
    "descripcion": ("descripción de código de error", "error", "descripción del error"),
    "aclaraciones": ("aclaraciones",),
}


def xls_matrix_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a matrix workbook that carry a code, under MATRIX_COLUMNS (missing columns empty)."""
    import xlrd  # build-time only: `make data`

    sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    header_row, columns = None, {}
    for r in range(min(sheet.nrows, 10)):
        cells = [str(sheet.cell_value(r, c)).strip().lower() for c in range(sheet.ncols)]
        if any(c in cells for c in _HEADER_ALIASES["codigo"]):
            header_row = r
            for key, aliases in _HEADER_ALIASES.items():
                for i, cell in enumerate(cells):
                    if cell in aliases:
                        columns[key] = i
                        break
            break
    if header_row is None:
        raise SystemExit(f"{path.name}: no header row with a code column")
    rows = []
    for r in range(header_row + 1, sheet.nrows):
        code = str(sheet.cell_value(r, columns["codigo"])).strip()
        if not code:
            continue  # section titles
        rows.append({k: " ".join(str(sheet.cell_value(r, columns[k])).split()) if k in columns else ""
                     for k in MATRIX_COLUMNS})
    return rows


def import_matrices(shared: Path) -> None:
    import csv

    out = OUT / "matrices"
    out.mkdir(exist_ok=True)
    for f in sorted((shared / "sat" / "matrices").glob("*.tsv")):
        shutil.copyfile(f, out / f.name)
    for name, stem in MATRIX_XLS.items():
        rows = xls_matrix_rows(shared / "sat" / "matrices" / name)
        with (out / f"{stem}.tsv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=MATRIX_COLUMNS, delimiter="\t", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        print(f"{stem}.tsv: {len(rows)} codes from {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    shared = Path(args.shared).resolve()
    src = shared / "sat" / "xml" / SITE

    xslts: set[str] = set()
    for r in XSLT_ROOTS:
        xslt_closure(src, r, xslts)
    schema_sets: dict[str, list[str]] = {}
    xsds: set[str] = set()
    for version, root in XSD_ROOTS.items():
        cadena = XSLT_ROOTS[0] if version == "cfdi40" else XSLT_ROOTS[1]
        members = [root, TFD_XSD] + complement_xsds(src, cadena)
        members = list(dict.fromkeys(members))
        schema_sets[version] = members
        for m in members:
            xsd_closure(src, m, xsds)

    if (OUT / "xml").exists():
        shutil.rmtree(OUT / "xml")
    dest = OUT / "xml" / SITE
    catalog_ns: set[str] = set()
    enums: dict[str, list[str]] = {}
    for rel in sorted(xsds):
        tree = etree.parse(str(src / rel))
        if rel.startswith("catalogos/"):
            ns = tree.getroot().get("targetNamespace")
            catalog_ns.add(ns)
            for name, values in lean_catalog(tree).items():
                enums[f"{{{ns}}}{name}"] = values
        if rel in XSD_ROOTS.values():
            for el in tree.getroot().iter(f"{{{XS}}}element"):
                if el.get("name") == "Addenda":
                    for any_ in el.iter(f"{{{XS}}}any"):
                        any_.set("processContents", ADDENDA_PATCH)
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    for rel in sorted(xslts):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dest / rel)

    schemas_dir = OUT / "schemas"
    schemas_dir.mkdir(parents=True, exist_ok=True)
    for version, members in schema_sets.items():
        imports = []
        for m in members:
            ns = etree.parse(str(src / m)).getroot().get("targetNamespace")
            imports.append((ns, f"../xml/{SITE}/{m}"))
        (schemas_dir / f"{version}.xsd").write_bytes(wrapper_xsd(imports))

    bindings = catalog_bindings(src, sorted(xsds), catalog_ns)
    tables = load_sql_catalogs(shared / "sat" / "catalogs" / "phpcfdi-resources-sat-catalogs" / "database")
    tables["c_ClaveProdServ"] = load_csv(shared / "sat" / "catalogs" / "extra" / "c_ClaveProdServ.csv")
    tables["c_CodigoPostal"] = load_csv(shared / "sat" / "catalogs" / "extra" / "c_CodigoPostal.csv")
    version = (shared / "sat" / "catalogs" / "phpcfdi-resources-sat-catalogs" / "database" / "version.txt")
    payload = {
        "version": version.read_text().strip(),
        "enumerations": enums,
        "bindings": bindings,
        "tables": tables,
    }
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with gzip.GzipFile(OUT / "catalogs.json.gz", "wb", compresslevel=9, mtime=0) as fh:
        fh.write(raw)

    certs = OUT / "certs"
    if certs.exists():
        shutil.rmtree(certs)
    for kind in ("sat-ca-prod", "sat-ca-test"):
        (certs / kind).mkdir(parents=True)
        for f in sorted((shared / "sat" / "certs" / kind).glob("*.cer")):
            shutil.copyfile(f, certs / kind / f.name)
    shutil.copyfile(shared / "sat" / "xml" / "LICENSE-phpcfdi-resources-sat-xml", OUT / "xml" / "LICENSE")
    import_matrices(shared)
    print(f"xsd {len(xsds)} xslt {len(xslts)} catalog types {len(enums)} tables {len(tables)} "
          f"catalogs.json.gz {(OUT / 'catalogs.json.gz').stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
