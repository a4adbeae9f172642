// Finkok stamp desde C# (.NET 6+). With a proxy generated from stamp.wsdl only the endpoint address changes;
// this example posts the envelope with HttpClient, no proxy needed.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml dotnet run
using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security;
using System.Text;
using System.Threading.Tasks;
using System.Xml.Linq;

class Stamp
{
    static async Task Main()
    {
        string E(string name) => SecurityElement.Escape(Environment.GetEnvironmentVariable(name)!);
        var cfdi = Convert.ToBase64String(File.ReadAllBytes(Environment.GetEnvironmentVariable("TIMBRA_CFDI")!));
        var envelope = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            + "xmlns:stamp=\"http://facturacion.finkok.com/stamp\"><soapenv:Body><stamp:stamp>"
            + $"<stamp:xml>{cfdi}</stamp:xml><stamp:username>{E("TIMBRA_USER")}</stamp:username>"
            + $"<stamp:password>{E("TIMBRA_PASSWORD")}</stamp:password></stamp:stamp></soapenv:Body></soapenv:Envelope>";
        var content = new StringContent(envelope, Encoding.UTF8, "text/xml");
        content.Headers.Add("SOAPAction", "\"stamp\"");
        var url = Environment.GetEnvironmentVariable("TIMBRA_URL")!.TrimEnd('/') + "/servicios/soap/stamp";
        var r = await new HttpClient().PostAsync(url, content);
        var answer = XDocument.Parse(await r.Content.ReadAsStringAsync());
        string? V(string name) => answer.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        if (!string.IsNullOrEmpty(V("UUID")) && V("CodigoError") == null)
            Console.WriteLine($"stamp ok {V("UUID")} {V("Fecha")} {V("CodEstatus")}");
        else
        {
            Console.Error.WriteLine($"stamp error {V("CodigoError")}: {V("MensajeIncidencia")}");
            Environment.Exit(1);
        }
    }
}
