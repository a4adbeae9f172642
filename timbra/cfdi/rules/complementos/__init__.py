"""Rules of the complements' matrices (Pagos 2.0, Nómina 1.2, Carta Porte 3.1, ...), one module each.

Each module's rules return at once when the document has no such complement, so a plain invoice pays
nothing for them."""
