// Kestrel with a selectable transport, for ci/bench-kestrel.sh (issue 13):
//   dotnet tools/KestrelBench/bin/Release/net10.0/KestrelBench.dll --transport sockets|linuxevent
//       [--model reactor|proactor] [--inline] [--loops N] --urls http://127.0.0.1:8081
//   GET /plaintext -> "Hello, World!" (text/plain); GET /json -> a 4 KB JSON document, serialized per request.
// The app is the same for both transports; only the transport registration differs.
using System.Text.Json.Serialization;
using LinuxEvent;

var transport = "sockets";
LoopModel model = LoopModel.Reactor;
bool inline = false;
int loops = 0;
var rest = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--transport" when i + 1 < args.Length: transport = args[++i]; break;
        case "--model" when i + 1 < args.Length: model = args[++i] == "proactor" ? LoopModel.Proactor : LoopModel.Reactor; break;
        case "--inline": inline = true; break;
        case "--loops" when i + 1 < args.Length: loops = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        default: rest.Add(args[i]); break;
    }
}

var builder = WebApplication.CreateSlimBuilder(rest.ToArray());
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BenchJson.Default));
switch (transport)
{
    case "linuxevent":
        builder.WebHost.UseLinuxEvent(o =>
        {
            o.Model = model;
            o.UnsafePreferInlineScheduling = inline;
            if (loops > 0) o.LoopCount = loops;
        });
        break;
    case "sockets":
        if (inline) builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        break;
    default:
        Console.Error.WriteLine($"KestrelBench: unknown transport '{transport}' (sockets|linuxevent)");
        return 2;
}
var app = builder.Build();
var items = Enumerable.Range(0, 41).Select(i => new Item(i, $"item-{i:D4}", "A fixed description padding the document.", i * 1.5)).ToArray();
var document = new Document("Hello, World!", items);
app.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
app.MapGet("/json", () => Results.Json(document, BenchJson.Default.Document));
Console.WriteLine($"KestrelBench: transport={transport}{(transport == "linuxevent" ? $" model={model}" : "")} inline={inline} cpus={Environment.ProcessorCount}");
app.Run();
return 0;

internal sealed record Item(int Id, string Name, string Description, double Score);

internal sealed record Document(string Message, Item[] Items);

[JsonSerializable(typeof(Document))]
internal sealed partial class BenchJson : JsonSerializerContext;
