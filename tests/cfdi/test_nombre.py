"""A persona moral's name without its régimen de capital: what SAT registers and CFDI 4.0 wants (CFDI40138)."""
from __future__ import annotations

import pytest

from timbra.cfdi.nombre import sin_regimen_capital
from timbra.sat.padron import SandboxPadron

# The subject name of every persona moral among SAT's test certificates (CSD and e.firma of SAT's public test
# kit; tests/data/csd/index.tsv lists some of the files) and the name the sandbox padrón registers for it.
SAT_TEST_CERTIFICATES = [
    ("EKU9003173C9", "ESCUELA KEMPER URGATE SA DE CV"),
    ("EWE1709045U0", "ESCUELA WILSON ESQUIVEL S DE CV"),
    ("H&E951128469", "HERRERIA & ELECTRICOS S DE CV"),
    ("HAÑ930228SM9", "HERMANOS ANZURES ÑARVAEZ SA"),
    ("IIA040805DZ4", "INDISTRIA ILUMINADORA DE ALMACENES SA DE CV"),
    ("IVD920810GU2", "INNOVACION VALOR Y DESARROLLO SA"),
    ("IXS7607092R5", "INTERNACIONAL XIMBO Y SABORES SA DE CV"),
    ("JES900109Q90", "JIMENEZ ESTRADA SALAS A A"),
    ("KIJ0906199R1", "KERNEL INDUSTIA JUGUETERA SA DE CV"),
    ("L&O950913MSA", "LUCES & OBRAS SA DE CV"),
    ("OÑO120726RX3", "ORGANICOS ÑAVEZ OSORIO S.A DE C.V SA DE CV"),
    ("S&S051221SE2", "S & SOFTWARE SA DE CV"),
    ("URE180429TM6", "UNIVERSIDAD ROBOTICA ESPAÑOLA SA DE CV"),
    ("XIA190128J61", "XENON INDUSTRIAL ARTICLES S DE CV"),
    ("ZUÑ920208KL4", "ZAPATERIA URTADO ÑERI SA DE CV"),
]


@pytest.mark.parametrize(("rfc", "certificado"), SAT_TEST_CERTIFICATES)
def test_sats_test_certificates_give_the_padrons_name(rfc, certificado):
    assert sin_regimen_capital(certificado) == SandboxPadron().lookup(rfc).nombre


@pytest.mark.parametrize(("escrito", "nombre"), [
    ("ACCEM SERVICIOS EMPRESARIALES SC", "ACCEM SERVICIOS EMPRESARIALES"),
    ("ACME SA DE CV", "ACME"),
    ("ACME S.A. DE C.V.", "ACME"),
    ("ACME, S.A. de C.V.", "ACME"),
    ("ACME S. A. DE C. V.", "ACME"),
    ("Acme, s.a. de c.v.", "Acme"),
    ("ACME,S.A.", "ACME"),
    ("ACME SA", "ACME"),
    ("ACME S.A.", "ACME"),
    ("ACME SAB DE CV", "ACME"),
    ("ACME S.A.B. DE C.V.", "ACME"),
    ("ACME SAPI DE CV", "ACME"),
    ("ACME S.A.P.I. DE C.V.", "ACME"),
    ("ACME SAS", "ACME"),
    ("ACME S.A.S. DE C.V.", "ACME"),
    ("ACME S DE RL DE CV", "ACME"),
    ("ACME S. DE R.L. DE C.V.", "ACME"),
    ("ACME S DE RL", "ACME"),
    ("ACME S DE RL MI", "ACME"),
    ("ACME S EN C", "ACME"),
    ("ACME S. EN C. POR A.", "ACME"),
    ("ACME S EN NC", "ACME"),
    ("DESPACHO PEREZ Y ASOCIADOS SC", "DESPACHO PEREZ Y ASOCIADOS"),
    ("DESPACHO PEREZ Y ASOCIADOS S.C.", "DESPACHO PEREZ Y ASOCIADOS"),
    ("FUNDACION AMIGOS AC", "FUNDACION AMIGOS"),
    ("FUNDACION AMIGOS A.C.", "FUNDACION AMIGOS"),
    ("CASA HOGAR IAP", "CASA HOGAR"),
    ("CASA HOGAR I.A.P.", "CASA HOGAR"),
    ("PESCADORES DEL GOLFO SC DE RL DE CV", "PESCADORES DEL GOLFO"),
    ("PESCADORES DEL GOLFO S.C. DE R.L.", "PESCADORES DEL GOLFO"),
    ("EL NOGAL SPR DE RL", "EL NOGAL"),
    ("EL NOGAL S.P.R. DE R.I.", "EL NOGAL"),
    ("CREDITOS RAPIDOS SA DE CV SOFOM ENR", "CREDITOS RAPIDOS"),
    ("CREDITOS RAPIDOS S.A. DE C.V., SOFOM, E.N.R.", "CREDITOS RAPIDOS"),
    ("CAJA POPULAR SA DE CV SFP", "CAJA POPULAR"),
    ("BANCO EJEMPLO SA INSTITUCION DE BANCA MULTIPLE", "BANCO EJEMPLO"),
    ("ACME SOCIEDAD ANONIMA DE CAPITAL VARIABLE", "ACME"),
    ("ACME SOCIEDAD ANÓNIMA DE CAPITAL VARIABLE", "ACME"),
    ("ACME SOCIEDAD DE RESPONSABILIDAD LIMITADA DE CAPITAL VARIABLE", "ACME"),
    ("ACME SOCIEDAD CIVIL", "ACME"),
    ("AMIGOS ASOCIACION CIVIL", "AMIGOS"),
    ("ACME   SA   DE   CV", "ACME"),
    ("ACME SA DE CV SA DE CV", "ACME"),
    # the name's own words stay
    ("GRUPO A.B.C., S.A.P.I. DE C.V.", "GRUPO A.B.C."),
    ("CONSTRUCTORA SAS SA DE CV", "CONSTRUCTORA SAS"),
    ("FARMACIAS AA SA DE CV", "FARMACIAS AA"),
    ("SAN ANTONIO SA DE CV", "SAN ANTONIO"),
    ("CASAS GEO SA DE CV", "CASAS GEO"),
    ("ASOCIACION DE COLONOS DEL VALLE AC", "ASOCIACION DE COLONOS DEL VALLE"),
    ("SOCIEDAD COOPERATIVA TRABAJADORES DE PASCUAL SCL", "SOCIEDAD COOPERATIVA TRABAJADORES DE PASCUAL"),
    # nothing to remove
    ("ESCUELA KEMPER URGATE", "ESCUELA KEMPER URGATE"),
    ("HERRERIA & ELECTRICOS", "HERRERIA & ELECTRICOS"),
    ("COMERCIALIZADORA ISA", "COMERCIALIZADORA ISA"),
    ("TACOS CASA", "TACOS CASA"),
    ("SA DE CV", "SA DE CV"),  # nothing but a régimen: kept as given
    ("  ESCUELA   KEMPER  URGATE  SA DE CV ", "ESCUELA KEMPER URGATE"),
])
def test_every_way_of_writing_the_regimen(escrito, nombre):
    assert sin_regimen_capital(escrito) == nombre
