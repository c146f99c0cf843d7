using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// The LEM-style chat server logic (ask a name, then relay each line to every other client as "name : line"),
/// written once as blocking-looking async code and run through both models. Clients are socket pairs driven by
/// tasks on the same loop: one thread, no locks.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ChatLogicTests(Backend backend) : FdCheckedTest
{
    /// <summary>Buffered line reader over a socket, on the loop's async API.</summary>
    private sealed class Lines(Loop loop, int fd)
    {
        private readonly byte[] _buf = new byte[4096];
        private int _start, _end;

        public async Task<string?> ReadLineAsync()
        {
            while (true)
            {
                int nl = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
                if (nl >= 0)
                {
                    var line = Encoding.UTF8.GetString(_buf, _start, nl - _start).TrimEnd('\r');
                    _start = nl + 1;
                    return line;
                }
                if (_start > 0) { Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start); _end -= _start; _start = 0; }
                int n = await loop.ReceiveAsync(fd, _buf.AsMemory(_end));
                if (n == 0) return null;
                _end += n;
            }
        }
    }

    private static Task Send(Loop loop, int fd, string text) => loop.SendAllAsync(fd, Encoding.UTF8.GetBytes(text)).AsTask();

    /// <summary>The server side of one connection.</summary>
    private static async Task ServeClient(Loop loop, int fd, Dictionary<int, string> clients, Action joined)
    {
        var lines = new Lines(loop, fd);
        await Send(loop, fd, "name?\n");
        var name = await lines.ReadLineAsync();
        if (name is null) return;
        clients[fd] = name;
        joined();
        while (await lines.ReadLineAsync() is { } line)
        {
            foreach (var (other, _) in clients.ToArray())
                if (other != fd) await Send(loop, other, $"{name} : {line}\n");
        }
        clients.Remove(fd);
    }

    [Test]
    public void SeveralClientsNamesAndBroadcast()
    {
        using var loop = backend.Create();
        var pairs = Enumerable.Range(0, 3).Select(_ => Posix.SocketPair()).ToArray();
        var names = new[] { "ann", "bob", "cy" };
        var received = names.ToDictionary(n => n, _ => new List<string>());
        try
        {
            loop.Run(async () =>
            {
                var clients = new Dictionary<int, string>();
                var allJoined = new TaskCompletionSource();
                void Joined() { if (clients.Count == pairs.Length) allJoined.TrySetResult(); }
                var servers = pairs.Select(p => loop.Spawn(() => ServeClient(loop, p.A, clients, Joined))).ToArray();
                var readers = new List<Lines>();
                // Each client answers the prompt with its name.
                for (int i = 0; i < pairs.Length; i++)
                {
                    var r = new Lines(loop, pairs[i].B);
                    readers.Add(r);
                    Assert.That(await r.ReadLineAsync(), Is.EqualTo("name?"));
                    await Send(loop, pairs[i].B, names[i] + "\n");
                }
                await allJoined.Task;     // every name registered before anyone speaks
                // Every client speaks once; the others each hear it, tagged with the speaker's name.
                for (int i = 0; i < pairs.Length; i++) await Send(loop, pairs[i].B, $"hello from {names[i]}\n");
                var listeners = readers.Select((r, i) => loop.Spawn(async () =>
                {
                    for (int k = 0; k < 2; k++) received[names[i]].Add((await r.ReadLineAsync())!);
                })).ToArray();
                await Task.WhenAll(listeners);
                foreach (var p in pairs) Posix.Shutdown(p.B, 1);        // clients leave: servers see EOF
                await Task.WhenAll(servers);
                Assert.That(clients, Is.Empty);
            });
        }
        finally
        {
            foreach (var (a, b) in pairs) { Posix.Close(a); Posix.Close(b); }
        }
        Assert.That(received["ann"], Is.EquivalentTo(new[] { "bob : hello from bob", "cy : hello from cy" }));
        Assert.That(received["bob"], Is.EquivalentTo(new[] { "ann : hello from ann", "cy : hello from cy" }));
        Assert.That(received["cy"], Is.EquivalentTo(new[] { "ann : hello from ann", "bob : hello from bob" }));
    }
}
