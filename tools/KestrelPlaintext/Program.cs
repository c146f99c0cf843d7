// Minimal Kestrel plaintext app (the issue 7 yardstick for examples/http-server.cs):
//   dotnet build -c Release tools/KestrelPlaintext && dotnet tools/KestrelPlaintext/bin/Release/net10.0/KestrelPlaintext.dll --urls http://127.0.0.1:8081
//   curl -i http://127.0.0.1:8081/plaintext   ->  200, text/plain, "Hello, World!"
// Bind with --urls to 127.0.0.1 only (without it, Kestrel's default is http://localhost:5000).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
app.Run();
