<?php
// Finkok stamp desde PHP con SoapClient (ext-soap), construido del WSDL que timbra sirve.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml php stamp.php
// Moving from Finkok: only the host changes (phpcfdi/finkok users: point its environment's URL at timbra).
$client = new SoapClient(rtrim(getenv('TIMBRA_URL'), '/') . '/servicios/soap/stamp.wsdl',
    ['exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE]);
$r = $client->stamp([
    'xml' => file_get_contents(getenv('TIMBRA_CFDI')),  // base64Binary: SoapClient encodes it
    'username' => getenv('TIMBRA_USER'),
    'password' => getenv('TIMBRA_PASSWORD'),
])->stampResult;
if (!empty($r->UUID) && empty($r->Incidencias)) {
    echo "stamp ok {$r->UUID} {$r->Fecha} {$r->CodEstatus}\n";  // $r->xml is the stamped CFDI
} else {
    $incidencias = $r->Incidencias->Incidencia ?? [];
    foreach (is_array($incidencias) ? $incidencias : [$incidencias] as $i) {
        fwrite(STDERR, "stamp error {$i->CodigoError}: {$i->MensajeIncidencia}\n");
    }
    exit(1);
}
