#!/bin/sh
# Emitir un CFDI desde datos (timbra sella con el CSD de la cuenta) / issue a CFDI from data: POST /v1/issue
# Variables: TIMBRA_URL, TIMBRA_API_KEY, TIMBRA_ISSUE_JSON (e.g. docs/examples/issue-factura.json)
set -eu
curl -sS "$TIMBRA_URL/v1/issue" \
  -H "X-API-Key: $TIMBRA_API_KEY" \
  -H "Content-Type: application/json" \
  --data-binary @"$TIMBRA_ISSUE_JSON" \
  -w '\nHTTP %{http_code}\n'
