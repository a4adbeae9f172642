"""SAT's CFDI 4.0 matrix for the CfdiRelacionados node.

The matrix has one code for it, CFDI40137 (TipoRelacion must be in c_TipoRelacion), a catalog value
that claves.py checks for every CfdiRelacionados node. The UUID of each CfdiRelacionado is checked by
the schema's pattern (301). Rules about which relations are allowed for each TipoDeComprobante belong to
the complements' matrices (e.g. Pagos) or need SAT's records of the related CFDI, so none live here.
"""
from __future__ import annotations
