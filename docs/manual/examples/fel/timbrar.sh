#!/bin/sh
# FEL Timbrado: TimbrarCFDI por SOAP con curl / FEL's TimbrarCFDI over SOAP with curl
# Variables: TIMBRA_URL, TIMBRA_USER, TIMBRA_PASSWORD (or an API key as the password), TIMBRA_CFDI (sealed XML)
# Moving from FEL: only the address changes, {FEL's host} -> $TIMBRA_URL, same path, same envelope.
set -eu
# cadenaXML is a string: the CFDI goes XML-escaped (& < > ")
CFDI=$(sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' "$TIMBRA_CFDI")
curl -sS "$TIMBRA_URL/WSTimbrado33/WSCFDI33.svc" \
  -H 'Content-Type: text/xml; charset=utf-8' \
  -H 'SOAPAction: "http://tempuri.org/IWSCFDI33/TimbrarCFDI"' \
  --data-binary @- -w '\nHTTP %{http_code}\n' <<SOAP
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Body>
    <TimbrarCFDI xmlns="http://tempuri.org/">
      <usuario>$TIMBRA_USER</usuario>
      <password>$TIMBRA_PASSWORD</password>
      <cadenaXML>$CFDI</cadenaXML>
      <referencia>ERP-$(date +%s)</referencia>
    </TimbrarCFDI>
  </s:Body>
</s:Envelope>
SOAP
