using System.Diagnostics;

namespace LinuxEvent.Net.Tests;

/// <summary>Every loop kind a contract test runs on.</summary>
public enum LoopKind { ReactorEpoll, ReactorFake, ProactorUring, ProactorFake }

public static class Loops
{
    /// <summary>Creates a loop of <paramref name="kind"/>; io_uring-less kernels make uring fixtures inconclusive.</summary>
    public static Loop Create(LoopKind kind)
    {
        switch (kind)
        {
            case LoopKind.ReactorEpoll: return Loop.CreateReactor();
            case LoopKind.ReactorFake: return Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend.Fake });
            case LoopKind.ProactorFake: return Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend.Fake });
            default:
                try { return Loop.CreateProactor(); }
                catch (LinuxEventUnsupportedException ex) { Assert.Ignore("io_uring unavailable here: " + ex.Message); throw; }
        }
    }

    public static bool IsFake(LoopKind kind) => kind is LoopKind.ReactorFake or LoopKind.ProactorFake;

    /// <summary>
    /// Runs iterations until <paramref name="done"/> holds, bounded by <paramref name="timeout"/> of loop time
    /// (virtual under Fake) and by an iteration cap, so a broken loop fails the test instead of hanging it.
    /// </summary>
    public static void RunUntil(this Loop loop, Func<bool> done, TimeSpan? timeout = null, int maxIterations = 1_000_000)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        bool fake = loop.BackendName == "fake";
        var wall = Stopwatch.StartNew();
        // A Fake loop's blocking wait jumps the virtual clock to the next deadline, or, with nothing scheduled, blocks
        // until a post: the watchdog posts after the wall-clock limit so a broken test fails instead of hanging.
        using var watchdog = new Timer(_ => { try { loop.Post(static _ => { }); } catch (ObjectDisposedException) { } }, null, limit, TimeSpan.FromMilliseconds(200));
        for (int i = 0; i < maxIterations; i++)
        {
            if (done()) return;
            if (wall.Elapsed > limit) Assert.Fail($"condition not met within {limit} (iterations: {i})");
            loop.RunOnce(fake ? null : TimeSpan.FromMilliseconds(50));
        }
        Assert.Fail($"condition not met within {maxIterations} iterations");
    }
}

public static class Fds
{
    /// <summary>
    /// Open fds of this process, except mapped assembly/symbol files: the runtime opens those lazily when a test first
    /// touches an assembly, which is not a leak of the code under test.
    /// </summary>
    public static string[] List() => Directory.GetFiles("/proc/self/fd").Where(f => !IsRuntimeFile(f)).ToArray();

    private static bool IsRuntimeFile(string f)
    {
        try
        {
            var t = new FileInfo(f).LinkTarget ?? "";
            return t.EndsWith(".dll", StringComparison.Ordinal) || t.EndsWith(".pdb", StringComparison.Ordinal) || t.EndsWith(".so", StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    public static int Count() => List().Length;

    public static Dictionary<string, string> Snapshot()
    {
        var d = new Dictionary<string, string>();
        foreach (var f in List())
        {
            try { d[Path.GetFileName(f)] = new FileInfo(f).LinkTarget ?? "?"; } catch (IOException) { }
        }
        return d;
    }

    public static string Diff(Dictionary<string, string> before, Dictionary<string, string> after)
    {
        var added = after.Where(kv => !before.TryGetValue(kv.Key, out var v) || v != kv.Value).Select(kv => $"+{kv.Key}->{kv.Value}");
        var removed = before.Where(kv => !after.TryGetValue(kv.Key, out var v) || v != kv.Value).Select(kv => $"-{kv.Key}->{kv.Value}");
        return string.Join(", ", added.Concat(removed));
    }
}

/// <summary>Base for every test: the process has exactly as many fds after the test as before it.</summary>
public abstract class FdCheckedTest
{
    private int _before;
    private Dictionary<string, string> _beforeMap = new();

    [OneTimeSetUp]
    public void WarmUpRuntime()
    {
        // Lazily created runtime fds (socket engine, signal pipe) must not count as leaks of the first test.
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        using var reg = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGCONT, _ => { });
    }

    [SetUp]
    public void CountFdsBefore()
    {
        _beforeMap = Fds.Snapshot();
        _before = Fds.Count();
    }

    [TearDown]
    public void CheckNoFdLeaked()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Passed) return;
        int after = Fds.Count();
        Assert.That(after, Is.EqualTo(_before), "fd leak: " + Fds.Diff(_beforeMap, Fds.Snapshot()));
    }
}

/// <summary>Helpers for network tests: real sockets on 127.0.0.1 only.</summary>
public static class Net
{
    public static readonly System.Net.IPEndPoint AnyLoopbackPort = new(System.Net.IPAddress.Loopback, 0);

    /// <summary>A connected TCP pair over loopback: (server side accepted, client side), both non-blocking.</summary>
    public static (int Server, int Client) TcpPair()
    {
        int listener = Posix.CreateTcpListener(AnyLoopbackPort, backlog: 4);
        try
        {
            var ep = (System.Net.IPEndPoint)Posix.GetLocalEndPoint(listener)!;
            int client = Posix.StartTcpConnect(ep, out int errno);
            Assert.That(client, Is.GreaterThanOrEqualTo(0), $"connect errno {errno}");
            int server = -1;
            var sw = Stopwatch.StartNew();
            while (server < 0 && sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                server = Posix.TryAccept(listener);
                if (server < 0) Thread.Yield();
            }
            Assert.That(server, Is.GreaterThanOrEqualTo(0), "accept on loopback");
            return (server, client);
        }
        finally { Posix.Close(listener); }
    }

    /// <summary>Reads whatever is available from a non-blocking fd (empty if nothing, null at EOF).</summary>
    public static byte[]? Drain(int fd, int max = 1 << 20)
    {
        var buf = new byte[Math.Min(max, 256 * 1024)];
        var ms = new MemoryStream();
        while (ms.Length < max)
        {
            int n = Posix.TryRead(fd, buf);
            if (n > 0) { ms.Write(buf, 0, n); continue; }
            if (n == 0) return ms.Length == 0 ? null : ms.ToArray();
            break;
        }
        return ms.ToArray();
    }

    public static void SetSendBuffer(int fd, int bytes) => Posix.SetSocketOption(fd, 1 /*SOL_SOCKET*/, 7 /*SO_SNDBUF*/, bytes);
    public static void SetReceiveBuffer(int fd, int bytes) => Posix.SetSocketOption(fd, 1 /*SOL_SOCKET*/, 8 /*SO_RCVBUF*/, bytes);
}
