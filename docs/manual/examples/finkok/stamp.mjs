// Finkok stamp desde JavaScript (Node 18+, fetch, sin dependencias / no dependencies).
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml node stamp.mjs
// Moving from Finkok: only the host of the address changes (/servicios/soap/stamp).
import { readFileSync } from "node:fs";

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const envelope = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:stamp="http://facturacion.finkok.com/stamp"><soapenv:Body><stamp:stamp>
  <stamp:xml>${readFileSync(process.env.TIMBRA_CFDI).toString("base64")}</stamp:xml>
  <stamp:username>${escape(process.env.TIMBRA_USER)}</stamp:username>
  <stamp:password>${escape(process.env.TIMBRA_PASSWORD)}</stamp:password>
</stamp:stamp></soapenv:Body></soapenv:Envelope>`;

const r = await fetch(`${process.env.TIMBRA_URL.replace(/\/$/, "")}/servicios/soap/stamp`, {
  method: "POST",
  headers: { "Content-Type": "text/xml; charset=utf-8", SOAPAction: '"stamp"' },
  body: envelope,
});
const answer = await r.text();
const value = (name) => answer.match(new RegExp(`<(?:\\w+:)?${name}>([^<]*)</(?:\\w+:)?${name}>`))?.[1];
const uuid = value("UUID");
if (uuid && !answer.includes("CodigoError")) {
  console.log("stamp ok", r.status, uuid, value("Fecha"), value("CodEstatus"));
} else {
  console.error("stamp error", r.status, value("CodigoError"), value("MensajeIncidencia"));
  process.exit(1);
}
