#!/bin/sh
# Cancelar (motivo 02, firmado con el CSD guardado en timbra) / cancel: POST /v1/cancel
# Variables: TIMBRA_URL, TIMBRA_API_KEY, TIMBRA_UUID
set -eu
curl -sS "$TIMBRA_URL/v1/cancel" \
  -H "X-API-Key: $TIMBRA_API_KEY" \
  -H "Content-Type: application/json" \
  -d "{\"uuids\": [\"$TIMBRA_UUID\"], \"motivo\": \"02\"}" \
  -w '\nHTTP %{http_code}\n'
