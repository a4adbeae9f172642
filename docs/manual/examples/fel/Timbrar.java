// FEL Timbrado: TimbrarCFDI desde Java 11+ (java.net.http; a wsimport/CXF proxy of the WSDL works the same way).
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml java Timbrar.java
// Moving from FEL: only the host of the endpoint address changes.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Timbrar {
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static String value(String xml, String name) {
        Matcher m = Pattern.compile("<a:" + name + ">([^<]*)</a:" + name + ">").matcher(xml);
        return m.find() ? m.group(1) : null;
    }

    public static void main(String[] args) throws Exception {
        String cfdi = Files.readString(Path.of(System.getenv("TIMBRA_CFDI")));
        String envelope = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<TimbrarCFDI xmlns=\"http://tempuri.org/\">"
                + "<usuario>" + escape(System.getenv("TIMBRA_USER")) + "</usuario>"
                + "<password>" + escape(System.getenv("TIMBRA_PASSWORD")) + "</password>"
                + "<cadenaXML>" + escape(cfdi) + "</cadenaXML>"
                + "<referencia>ERP-" + System.nanoTime() + "</referencia>"
                + "</TimbrarCFDI></s:Body></s:Envelope>";
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(System.getenv("TIMBRA_URL").replaceAll("/$", "") + "/WSTimbrado33/WSCFDI33.svc"))
                .header("Content-Type", "text/xml; charset=utf-8")
                .header("SOAPAction", "\"http://tempuri.org/IWSCFDI33/TimbrarCFDI\"")
                .POST(HttpRequest.BodyPublishers.ofString(envelope)).build();
        String answer = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        if ("true".equals(value(answer, "OperacionExitosa"))) {
            System.out.println("TimbrarCFDI ok " + value(answer, "UUID") + " " + value(answer, "FechaTimbrado"));
        } else {
            System.err.println("TimbrarCFDI error " + value(answer, "CodigoRespuesta") + " " + value(answer, "MensajeError"));
            System.exit(1);
        }
    }
}
