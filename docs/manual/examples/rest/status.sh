#!/bin/sh
# Estado en el SAT / status at SAT: GET /v1/cfdi/{uuid}/status
# Variables: TIMBRA_URL, TIMBRA_API_KEY, TIMBRA_UUID
set -eu
curl -sS "$TIMBRA_URL/v1/cfdi/$TIMBRA_UUID/status" \
  -H "X-API-Key: $TIMBRA_API_KEY" \
  -w '\nHTTP %{http_code}\n'
