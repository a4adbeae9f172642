// timbra REST desde C# (.NET 6+, System.Net.Http y System.Text.Json): stamp, status, PDF, issue and cancel.
//   dotnet new console -n TimbraRest && cp TimbraRest.cs TimbraRest/Program.cs && cd TimbraRest
//   TIMBRA_URL=https://pac.example.mx TIMBRA_API_KEY=tbk_... TIMBRA_CFDI=factura.xml \
//   TIMBRA_ISSUE_JSON=issue-factura.json dotnet run
using System;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

class TimbraRest
{
    static readonly string Url = Environment.GetEnvironmentVariable("TIMBRA_URL")!.TrimEnd('/');
    static readonly HttpClient Http = new HttpClient();

    static async Task<JsonElement> Check(HttpResponseMessage r)
    {
        // Every error has the same shape: code, message (es), message_en, source and findings.
        var json = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        if ((int)r.StatusCode >= 400)
        {
            Console.Error.WriteLine($"error {(int)r.StatusCode} {json.GetProperty("code")}: {json.GetProperty("message")}");
            Environment.Exit(1);
        }
        return json;
    }

    static async Task Main()
    {
        Http.DefaultRequestHeaders.Add("X-API-Key", Environment.GetEnvironmentVariable("TIMBRA_API_KEY"));

        // 1. Timbrar un CFDI sellado / stamp a sealed CFDI
        var doc = File.ReadAllBytes(Environment.GetEnvironmentVariable("TIMBRA_CFDI")!);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Url}/v1/stamp") { Content = new ByteArrayContent(doc) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/xml");
        request.Headers.Add("Idempotency-Key", Convert.ToHexString(SHA256.HashData(doc)).Substring(0, 40));
        var r = await Http.SendAsync(request);
        var stamped = await Check(r);
        var uuid = stamped.GetProperty("uuid").GetString();
        Console.WriteLine($"stamp {(int)r.StatusCode} {uuid} {stamped.GetProperty("fecha_timbrado")}");

        // 2. Estado en el SAT / status at SAT
        r = await Http.GetAsync($"{Url}/v1/cfdi/{uuid}/status");
        Console.WriteLine($"status {(int)r.StatusCode} {(await Check(r)).GetProperty("estado")}");

        // 3. PDF
        r = await Http.GetAsync($"{Url}/v1/cfdi/{uuid}/pdf");
        var pdf = await r.Content.ReadAsByteArrayAsync();
        Console.WriteLine($"pdf {(int)r.StatusCode} {r.Content.Headers.ContentType} {pdf.Length} bytes");

        // 4. Emitir desde datos / issue from data
        var data = File.ReadAllText(Environment.GetEnvironmentVariable("TIMBRA_ISSUE_JSON")!);
        r = await Http.PostAsync($"{Url}/v1/issue", new StringContent(data, Encoding.UTF8, "application/json"));
        var issued = (await Check(r)).GetProperty("uuid").GetString();
        Console.WriteLine($"issue {(int)r.StatusCode} {issued}");

        // 5. Cancelar / cancel (motivo 02, signed with the CSD kept in timbra)
        var body = JsonSerializer.Serialize(new { uuids = new[] { issued }, motivo = "02" });
        r = await Http.PostAsync($"{Url}/v1/cancel", new StringContent(body, Encoding.UTF8, "application/json"));
        foreach (var folio in (await Check(r)).GetProperty("folios").EnumerateArray())
            Console.WriteLine($"cancel {(int)r.StatusCode} {folio.GetProperty("uuid")} {folio.GetProperty("code")} {folio.GetProperty("status")}");
    }
}
