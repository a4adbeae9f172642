// FEL Timbrado: TimbrarCFDI desde C# (.NET 6+). With a WCF proxy ("Add Service Reference" on FEL's WSDL) only
// the endpoint address changes; this example posts the envelope with HttpClient, no proxy needed.
//   TIMBRA_URL=https://pac.example.mx TIMBRA_USER=... TIMBRA_PASSWORD=... TIMBRA_CFDI=factura.xml dotnet run
using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security;
using System.Text;
using System.Threading.Tasks;
using System.Xml.Linq;

class Timbrar
{
    static async Task Main()
    {
        string E(string name) => SecurityElement.Escape(Environment.GetEnvironmentVariable(name)!);
        var cfdi = SecurityElement.Escape(File.ReadAllText(Environment.GetEnvironmentVariable("TIMBRA_CFDI")!));
        var envelope = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
            + "<TimbrarCFDI xmlns=\"http://tempuri.org/\">"
            + $"<usuario>{E("TIMBRA_USER")}</usuario><password>{E("TIMBRA_PASSWORD")}</password>"
            + $"<cadenaXML>{cfdi}</cadenaXML><referencia>ERP-{DateTime.UtcNow.Ticks}</referencia>"
            + "</TimbrarCFDI></s:Body></s:Envelope>";
        var content = new StringContent(envelope, Encoding.UTF8, "text/xml");
        content.Headers.Add("SOAPAction", "\"http://tempuri.org/IWSCFDI33/TimbrarCFDI\"");
        var url = Environment.GetEnvironmentVariable("TIMBRA_URL")!.TrimEnd('/') + "/WSTimbrado33/WSCFDI33.svc";
        var r = await new HttpClient().PostAsync(url, content);
        XNamespace a = "http://schemas.datacontract.org/2004/07/TES.TFD.V33.Negocios";
        var answer = XDocument.Parse(await r.Content.ReadAsStringAsync());
        string? V(string name) => answer.Descendants(a + name).FirstOrDefault()?.Value;
        if (V("OperacionExitosa") == "true")
            Console.WriteLine($"TimbrarCFDI ok {V("UUID")} {V("FechaTimbrado")} creditos: {V("CreditosRestantes")}");
        else
        {
            Console.Error.WriteLine($"TimbrarCFDI error {V("CodigoRespuesta")}: {V("MensajeError")}");
            Environment.Exit(1);
        }
    }
}
