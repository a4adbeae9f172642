<?php
// timbra REST desde PHP 7.4+ (ext-curl, ext-json): stamp, status, PDF, issue and cancel.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_API_KEY=tbk_... TIMBRA_CFDI=factura.xml \
//   TIMBRA_ISSUE_JSON=issue-factura.json php timbra_rest.php
$url = rtrim(getenv('TIMBRA_URL'), '/');
$key = getenv('TIMBRA_API_KEY');

function call(string $method, string $url, string $key, ?string $body = null, array $headers = []): array
{
    $ch = curl_init($url);
    curl_setopt_array($ch, [
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_HTTPHEADER => array_merge(["X-API-Key: $key"], $headers),
    ]);
    if ($body !== null) {
        curl_setopt($ch, CURLOPT_POSTFIELDS, $body);
    }
    $response = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    $type = (string) curl_getinfo($ch, CURLINFO_CONTENT_TYPE);
    curl_close($ch);
    if ($status >= 400) {  // {"code", "message", "message_en", "source", "findings"}
        $e = json_decode($response, true);
        fwrite(STDERR, "error $status {$e['code']}: {$e['message']}\n");
        foreach ($e['findings'] ?? [] as $f) {
            fwrite(STDERR, "  {$f['code']} {$f['node']}: {$f['message']}\n");
        }
        exit(1);
    }
    return [$status, strpos($type, 'application/json') === 0 ? json_decode($response, true) : $response, $type];
}

// 1. Timbrar un CFDI sellado / stamp a sealed CFDI
$doc = file_get_contents(getenv('TIMBRA_CFDI'));
[$status, $stamped] = call('POST', "$url/v1/stamp", $key, $doc,
    ['Content-Type: application/xml', 'Idempotency-Key: ' . substr(hash('sha256', $doc), 0, 40)]);
$uuid = $stamped['uuid'];
echo "stamp $status $uuid {$stamped['fecha_timbrado']} credits left: {$stamped['credits_left']}\n";
// base64_decode($stamped['xml']) is the stamped CFDI

// 2. Estado en el SAT / status at SAT
[$status, $sat] = call('GET', "$url/v1/cfdi/$uuid/status", $key);
echo "status $status {$sat['estado']}\n";

// 3. PDF
[$status, $pdf, $type] = call('GET', "$url/v1/cfdi/$uuid/pdf", $key);
echo "pdf $status $type " . strlen($pdf) . " bytes\n";

// 4. Emitir desde datos / issue from data
[$status, $issued] = call('POST', "$url/v1/issue", $key, file_get_contents(getenv('TIMBRA_ISSUE_JSON')),
    ['Content-Type: application/json']);
echo "issue $status {$issued['uuid']}\n";

// 5. Cancelar / cancel (motivo 02, signed with the CSD kept in timbra)
[$status, $cancel] = call('POST', "$url/v1/cancel", $key,
    json_encode(['uuids' => [$issued['uuid']], 'motivo' => '02']), ['Content-Type: application/json']);
foreach ($cancel['folios'] as $folio) {
    echo "cancel $status {$folio['uuid']} {$folio['code']} {$folio['status']}\n";
}
