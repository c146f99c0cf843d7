using System.Text;

namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// The README's "Simulate your own server" snippet, compiled and run here, and compared with the README's text so the
/// two cannot drift apart.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class ReadmeExampleTests(Backend backend) : FdCheckedTest
{
    private static void Snippet(LoopModel model)
    {
        // README-BEGIN
        for (ulong seed = 1; seed <= 100; seed++)
        {
            using var sim = new Simulator(new SimulationOptions { Seed = seed, Model = model });
            var server = sim.CreateHost("server");
            server.Bind(7, (_, connection) =>                 // your server: any code that takes a Loop
            {
                var echo = connection.ToStream(server.Loop);
                echo.OnData = (s, data) => s.Write(data);
                echo.Start();
            });
            var client = sim.CreateHost("client");
            var echoed = new StringBuilder();
            LoopStream? stream = null;
            client.Connect(server.EndPoint(7), result =>
            {
                stream = result.Connection.ToStream(client.Loop);
                stream.OnData = (_, data) => echoed.Append(Encoding.ASCII.GetString(data));
                stream.Start();
                stream.Write("hello, simulated world"u8);
            });
            // Until the echo is back, or the seed's faults reset the connection (the stream closes).
            sim.RunUntil(() => echoed.Length == 22 || stream is { IsClosed: true }, TimeSpan.FromSeconds(30), "the echo");
            if (stream is { IsClosed: false } && echoed.ToString() != "hello, simulated world") sim.Fail($"echoed {echoed}");
            sim.ThrowIfFailed();                              // a SimulationFailedException names the seed
        }
        // README-END
    }

    [Test]
    public void TheSnippetRuns() => Snippet(backend.Model);

    [Test]
    public void TheReadmeShowsThisVeryCode()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "README.md")) || !Directory.Exists(Path.Combine(root, "src"))) root = Path.GetDirectoryName(root)!;
        static string[] Lines(string text) => text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        string test = File.ReadAllText(Path.Combine(root, "tests", "LinuxEvent.Simulation.Tests", "ReadmeExampleTests.cs"));
        int from = test.IndexOf("// README-BEGIN", StringComparison.Ordinal), to = test.IndexOf("// README-END", StringComparison.Ordinal);
        string snippet = test[(test.IndexOf('\n', from) + 1)..to];
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        int section = readme.IndexOf("## Simulate your own server", StringComparison.Ordinal);
        Assert.That(section, Is.GreaterThan(0), "the README has the section");
        int code = readme.IndexOf("```csharp", section, StringComparison.Ordinal);
        int end = readme.IndexOf("```", code + 9, StringComparison.Ordinal);
        var shown = Lines(readme[(code + 9)..end]).Where(l => !(l.StartsWith("using ", StringComparison.Ordinal) && !l.Contains('=')) && !l.StartsWith("var model", StringComparison.Ordinal));
        Assert.That(shown, Is.EqualTo(Lines(snippet)));
    }
}
