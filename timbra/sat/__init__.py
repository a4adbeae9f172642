"""SAT's published material (schemas, stylesheets, catalogs, CA certificates), loaded once."""
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
XML_ROOT = DATA / "xml" / "www.sat.gob.mx" / "sitio_internet" / "cfd"
