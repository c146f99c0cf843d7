using System.Diagnostics;

namespace LinuxEvent.Tests;

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
        long start = loop.NowNanoseconds;
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < maxIterations; i++)
        {
            if (done()) return;
            long elapsedNs = loop.NowNanoseconds - start;
            if (elapsedNs > limit.Ticks * 100 || wall.Elapsed > limit + TimeSpan.FromSeconds(5))
                Assert.Fail($"condition not met within {limit} (iterations: {i})");
            loop.RunOnce(TimeSpan.FromMilliseconds(50));
        }
        Assert.Fail($"condition not met within {maxIterations} iterations");
    }
}

public static class Fds
{
    public static string[] List() => Directory.GetFiles("/proc/self/fd");

    public static int Count() => List().Length;

    public static string Describe()
    {
        var lines = new List<string>();
        foreach (var f in List())
        {
            string target;
            try { target = new FileInfo(f).LinkTarget ?? "?"; } catch { target = "?"; }
            lines.Add($"{Path.GetFileName(f)} -> {target}");
        }
        return string.Join(", ", lines);
    }
}

/// <summary>Base for every test: the process has exactly as many fds after the test as before it.</summary>
public abstract class FdCheckedTest
{
    private int _before;
    private string _beforeList = "";

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
        _before = Fds.Count();
        _beforeList = Fds.Describe();
    }

    [TearDown]
    public void CheckNoFdLeaked()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Passed) return;
        int after = Fds.Count();
        Assert.That(after, Is.EqualTo(_before), $"fd leak.\nbefore: {_beforeList}\nafter:  {Fds.Describe()}");
    }
}
