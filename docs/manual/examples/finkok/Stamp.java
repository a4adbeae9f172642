// Finkok stamp desde Java 11+ (java.net.http; a wsimport/CXF proxy of stamp.wsdl works the same way).
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml java Stamp.java
// Moving from Finkok: only the host of the endpoint address changes (/servicios/soap/stamp).
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Stamp {
    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static String value(String xml, String name) {
        Matcher m = Pattern.compile("<(?:\\w+:)?" + name + ">([^<]*)</(?:\\w+:)?" + name + ">").matcher(xml);
        return m.find() ? m.group(1) : null;
    }

    public static void main(String[] args) throws Exception {
        byte[] cfdi = Files.readAllBytes(Path.of(System.getenv("TIMBRA_CFDI")));
        String envelope = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                + "xmlns:stamp=\"http://facturacion.finkok.com/stamp\"><soapenv:Body><stamp:stamp>"
                + "<stamp:xml>" + Base64.getEncoder().encodeToString(cfdi) + "</stamp:xml>"
                + "<stamp:username>" + escape(System.getenv("TIMBRA_USER")) + "</stamp:username>"
                + "<stamp:password>" + escape(System.getenv("TIMBRA_PASSWORD")) + "</stamp:password>"
                + "</stamp:stamp></soapenv:Body></soapenv:Envelope>";
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(System.getenv("TIMBRA_URL").replaceAll("/$", "") + "/servicios/soap/stamp"))
                .header("Content-Type", "text/xml; charset=utf-8").header("SOAPAction", "\"stamp\"")
                .POST(HttpRequest.BodyPublishers.ofString(envelope)).build();
        String answer = http.send(request, HttpResponse.BodyHandlers.ofString()).body();
        String uuid = value(answer, "UUID");
        if (uuid != null && !answer.contains("CodigoError")) {
            System.out.println("stamp ok " + uuid + " " + value(answer, "Fecha") + " " + value(answer, "CodEstatus"));
        } else {
            System.err.println("stamp error " + value(answer, "CodigoError") + " " + value(answer, "MensajeIncidencia"));
            System.exit(1);
        }
    }
}
