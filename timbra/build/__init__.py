"""CFDI XML from plain data (conexión remota): invoice, Pagos 2.0 and Nómina 1.2."""
