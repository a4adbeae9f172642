// timbra REST desde JavaScript / from JavaScript (Node 18+, fetch): stamp, status, PDF, issue and cancel.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_API_KEY=tbk_... TIMBRA_CFDI=factura.xml \
//   TIMBRA_ISSUE_JSON=issue-factura.json node timbra_rest.mjs
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const URL = process.env.TIMBRA_URL.replace(/\/$/, "");
const auth = { "X-API-Key": process.env.TIMBRA_API_KEY };

async function check(r) {
  // Every error has the same shape: code, message (es), message_en, source and findings.
  const body = await r.json();
  if (r.status >= 400) {
    console.error(`error ${r.status} ${body.code}: ${body.message}`);
    for (const f of body.findings ?? []) console.error(`  ${f.code} ${f.node ?? ""}: ${f.message}`);
    process.exit(1);
  }
  return body;
}

// 1. Timbrar un CFDI sellado / stamp a sealed CFDI
const documentXml = readFileSync(process.env.TIMBRA_CFDI);
let r = await fetch(`${URL}/v1/stamp`, {
  method: "POST",
  headers: { ...auth, "Content-Type": "application/xml",
             "Idempotency-Key": createHash("sha256").update(documentXml).digest("hex").slice(0, 40) },
  body: documentXml,
});
const stamped = await check(r);
console.log("stamp", r.status, stamped.uuid, stamped.fecha_timbrado, "credits left:", stamped.credits_left);

// 2. Estado en el SAT / status at SAT
r = await fetch(`${URL}/v1/cfdi/${stamped.uuid}/status`, { headers: auth });
console.log("status", r.status, (await check(r)).estado);

// 3. PDF
r = await fetch(`${URL}/v1/cfdi/${stamped.uuid}/pdf`, { headers: auth });
if (r.status !== 200) await check(r);
const pdf = Buffer.from(await r.arrayBuffer());
console.log("pdf", r.status, r.headers.get("content-type"), pdf.length, "bytes");

// 4. Emitir desde datos / issue from data
r = await fetch(`${URL}/v1/issue`, {
  method: "POST",
  headers: { ...auth, "Content-Type": "application/json" },
  body: readFileSync(process.env.TIMBRA_ISSUE_JSON),
});
const issued = await check(r);
console.log("issue", r.status, issued.uuid);

// 5. Cancelar / cancel (motivo 02, signed with the CSD kept in timbra)
r = await fetch(`${URL}/v1/cancel`, {
  method: "POST",
  headers: { ...auth, "Content-Type": "application/json" },
  body: JSON.stringify({ uuids: [issued.uuid], motivo: "02" }),
});
for (const folio of (await check(r)).folios) console.log("cancel", r.status, folio.uuid, folio.code, folio.status);
