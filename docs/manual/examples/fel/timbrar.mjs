// FEL Timbrado: TimbrarCFDI desde JavaScript (Node 18+, fetch, sin dependencias / no dependencies).
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml node timbrar.mjs
// Moving from FEL: only the host of the address changes.
import { readFileSync } from "node:fs";

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const envelope = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
  <TimbrarCFDI xmlns="http://tempuri.org/">
    <usuario>${escape(process.env.TIMBRA_USER)}</usuario>
    <password>${escape(process.env.TIMBRA_PASSWORD)}</password>
    <cadenaXML>${escape(readFileSync(process.env.TIMBRA_CFDI, "utf8"))}</cadenaXML>
    <referencia>ERP-${Date.now()}</referencia>
  </TimbrarCFDI></s:Body></s:Envelope>`;

const r = await fetch(`${process.env.TIMBRA_URL.replace(/\/$/, "")}/WSTimbrado33/WSCFDI33.svc`, {
  method: "POST",
  headers: { "Content-Type": "text/xml; charset=utf-8", SOAPAction: '"http://tempuri.org/IWSCFDI33/TimbrarCFDI"' },
  body: envelope,
});
const answer = await r.text();
// An XML parser (e.g. fast-xml-parser) is the usual choice; a regex keeps this example dependency-free.
const value = (name) => answer.match(new RegExp(`<a:${name}>([^<]*)</a:${name}>`))?.[1];
if (value("OperacionExitosa") === "true") {
  console.log("TimbrarCFDI ok", r.status, value("UUID"), value("FechaTimbrado"), "creditos:", value("CreditosRestantes"));
} else {
  console.error("TimbrarCFDI error", r.status, value("CodigoRespuesta"), value("MensajeError"));
  process.exit(1);
}
