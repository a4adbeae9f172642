<?php
// FEL Timbrado: TimbrarCFDI desde PHP con SoapClient (ext-soap), construido del WSDL que timbra sirve.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml php timbrar.php
// Moving from FEL: only the host of the WSDL's address changes.
$client = new SoapClient(rtrim(getenv('TIMBRA_URL'), '/') . '/WSTimbrado33/WSCFDI33.svc?wsdl',
    ['trace' => true, 'exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE]);
$r = $client->TimbrarCFDI([
    'usuario' => getenv('TIMBRA_USER'),
    'password' => getenv('TIMBRA_PASSWORD'),
    'cadenaXML' => file_get_contents(getenv('TIMBRA_CFDI')),
    'referencia' => 'ERP-' . time(),
])->TimbrarCFDIResult;
if ($r->OperacionExitosa) {
    echo "TimbrarCFDI ok {$r->Timbre->UUID} {$r->Timbre->FechaTimbrado} creditos: {$r->CreditosRestantes}\n";
    // $r->XMLResultado is the stamped CFDI
} else {
    fwrite(STDERR, "TimbrarCFDI error {$r->CodigoRespuesta}: {$r->MensajeError}\n{$r->MensajeErrorDetallado}\n");
    exit(1);
}
