"""timbra: an open-source PAC (Proveedor Autorizado de Certificación) for Mexico's CFDI."""

__version__ = "0.1.0"
