#!/bin/sh
# Timbrar un CFDI ya sellado / stamp a sealed CFDI: POST /v1/stamp
# Variables: TIMBRA_URL, TIMBRA_API_KEY, TIMBRA_CFDI (the sealed XML file)
set -eu
# The Idempotency-Key makes a retry safe: the same key and document answer the first stamp (200), never a
# second one. A hash of the document is a good key.
KEY=$( (sha256sum "$TIMBRA_CFDI" 2>/dev/null || shasum -a 256 "$TIMBRA_CFDI") | cut -c1-40)  # Linux || macOS
curl -sS "$TIMBRA_URL/v1/stamp" \
  -H "X-API-Key: $TIMBRA_API_KEY" \
  -H "Content-Type: application/xml" \
  -H "Idempotency-Key: $KEY" \
  --data-binary @"$TIMBRA_CFDI" \
  -w '\nHTTP %{http_code}\n'
