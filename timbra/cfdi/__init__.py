"""Reading, checking and stamping a CFDI: pure (bytes in, bytes/findings out), no storage, no network."""
