#!/bin/sh
# Finkok stamp por SOAP con curl / Finkok's stamp over SOAP with curl
# Variables: TIMBRA_URL, TIMBRA_USER, TIMBRA_PASSWORD, TIMBRA_CFDI (sealed XML)
# Moving from Finkok: https://facturacion.finkok.com/servicios/soap/stamp -> $TIMBRA_URL/servicios/soap/stamp
set -eu
curl -sS "$TIMBRA_URL/servicios/soap/stamp" \
  -H 'Content-Type: text/xml; charset=utf-8' \
  -H 'SOAPAction: "stamp"' \
  --data-binary @- -w '\nHTTP %{http_code}\n' <<SOAP
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:stamp="http://facturacion.finkok.com/stamp">
  <soapenv:Body>
    <stamp:stamp>
      <stamp:xml>$(base64 < "$TIMBRA_CFDI" | tr -d '\n')</stamp:xml>
      <stamp:username>$TIMBRA_USER</stamp:username>
      <stamp:password>$TIMBRA_PASSWORD</stamp:password>
    </stamp:stamp>
  </soapenv:Body>
</soapenv:Envelope>
SOAP
