#!/bin/sh
# Representación impresa / the printed CFDI: GET /v1/cfdi/{uuid}/pdf
# Variables: TIMBRA_URL, TIMBRA_API_KEY, TIMBRA_UUID; TIMBRA_OUT: folder for the PDF (default: here)
set -eu
OUT="${TIMBRA_OUT:-.}/$TIMBRA_UUID.pdf"
curl -sS "$TIMBRA_URL/v1/cfdi/$TIMBRA_UUID/pdf" \
  -H "X-API-Key: $TIMBRA_API_KEY" \
  -o "$OUT" \
  -w 'HTTP %{http_code} %{content_type} %{size_download} bytes\n'
echo "$OUT"
