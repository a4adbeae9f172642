// timbra REST desde Java 11+ (java.net.http, sin dependencias / no dependencies): stamp, status, PDF, issue, cancel.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_API_KEY=tbk_... TIMBRA_CFDI=factura.xml \
//   TIMBRA_ISSUE_JSON=issue-factura.json java TimbraRest.java
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class TimbraRest {
    static final String URL = System.getenv("TIMBRA_URL").replaceAll("/$", "");
    static final String KEY = System.getenv("TIMBRA_API_KEY");
    // HTTP/1.1: Java's client would otherwise try an h2c upgrade on http:// URLs
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        HttpResponse<String> r = http.send(b.header("X-API-Key", KEY).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) {  // {"code": ..., "message": ..., "message_en": ..., "findings": [...]}
            System.err.println("error " + r.statusCode() + " " + r.body());
            System.exit(1);
        }
        return r;
    }

    // A JSON library (Jackson, Gson) is the usual choice; a regex keeps this example dependency-free.
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    public static void main(String[] args) throws Exception {
        // 1. Timbrar un CFDI sellado / stamp a sealed CFDI
        byte[] doc = Files.readAllBytes(Path.of(System.getenv("TIMBRA_CFDI")));
        String idem = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(doc)).substring(0, 40);
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(URL + "/v1/stamp"))
                .header("Content-Type", "application/xml").header("Idempotency-Key", idem)
                .POST(HttpRequest.BodyPublishers.ofByteArray(doc)));
        String uuid = field(r.body(), "uuid");
        System.out.println("stamp " + r.statusCode() + " " + uuid + " " + field(r.body(), "fecha_timbrado"));

        // 2. Estado en el SAT / status at SAT
        r = send(HttpRequest.newBuilder(URI.create(URL + "/v1/cfdi/" + uuid + "/status")).GET());
        System.out.println("status " + r.statusCode() + " " + field(r.body(), "estado"));

        // 3. PDF
        HttpResponse<byte[]> pdf = http.send(HttpRequest.newBuilder(URI.create(URL + "/v1/cfdi/" + uuid + "/pdf"))
                .header("X-API-Key", KEY).build(), HttpResponse.BodyHandlers.ofByteArray());
        System.out.println("pdf " + pdf.statusCode() + " " + pdf.headers().firstValue("content-type").orElse("")
                + " " + pdf.body().length + " bytes");

        // 4. Emitir desde datos / issue from data
        r = send(HttpRequest.newBuilder(URI.create(URL + "/v1/issue")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofFile(Path.of(System.getenv("TIMBRA_ISSUE_JSON")))));
        String issued = field(r.body(), "uuid");
        System.out.println("issue " + r.statusCode() + " " + issued);

        // 5. Cancelar / cancel (motivo 02, signed with the CSD kept in timbra)
        r = send(HttpRequest.newBuilder(URI.create(URL + "/v1/cancel")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"uuids\": [\"" + issued + "\"], \"motivo\": \"02\"}")));
        System.out.println("cancel " + r.statusCode() + " " + issued + " " + field(r.body(), "code") + " "
                + field(r.body(), "status"));
    }
}
