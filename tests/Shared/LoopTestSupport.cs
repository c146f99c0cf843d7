using System.Diagnostics;

// Shared by every test project (compiled into each): bounded waiting on a loop, and the fd-leak check.
namespace LinuxEvent.Testing;

public static class Loops
{
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
        // until a post. The watchdog posts every 20 ms of wall time, so a condition that depends on another thread
        // is re-checked promptly and a broken test fails at the limit instead of hanging. (A post never moves the
        // virtual clock.)
        using var watchdog = new Timer(_ => { try { loop.Post(static _ => { }); } catch (ObjectDisposedException) { } }, null,
            TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20));
        for (int i = 0; i < maxIterations; i++)
        {
            if (done()) return;
            if (wall.Elapsed > limit) Assert.Fail($"condition not met within {limit} (iterations: {i})");
            loop.RunOnce(fake ? null : TimeSpan.FromMilliseconds(50));
        }
        Assert.Fail($"condition not met within {maxIterations} iterations");
    }

    /// <summary>Moves the virtual clock of a fake loop (either model) forward; fails on a real backend.</summary>
    public static void AdvanceVirtualClock(this Loop loop, TimeSpan by)
    {
        switch (loop)
        {
            case ReactorLoop { Fake: { } readiness }: readiness.Advance(by); break;
            case ProactorLoop { Fake: { } completions }: completions.Advance(by); break;
            default: Assert.Fail($"{loop.BackendName} has no virtual clock"); break;
        }
    }

    /// <summary>Runs a fake loop (either model) until nothing is due; fails on a real backend.</summary>
    public static void RunFakeUntilIdle(this Loop loop)
    {
        switch (loop)
        {
            case ReactorLoop { Fake: { } readiness }: readiness.RunUntilIdle(); break;
            case ProactorLoop { Fake: { } completions }: completions.RunUntilIdle(); break;
            default: Assert.Fail($"{loop.BackendName} is not a fake"); break;
        }
    }
}

public static class Fds
{
    /// <summary>
    /// Open fds of this process, except mapped assembly/symbol files (the runtime opens those lazily when a test first
    /// touches an assembly) and files under /proc and /sys (the GC and the thread pool read /proc/meminfo, cgroup
    /// limits and the like on their own threads at any moment; CI once caught /proc/meminfo open in the "before"
    /// snapshot). Neither is a leak of the code under test, and no code under test opens either.
    /// </summary>
    public static string[] List() => Directory.GetFiles("/proc/self/fd").Where(f => !IsRuntimeFile(f)).ToArray();

    private static bool IsRuntimeFile(string f)
    {
        try
        {
            var t = new FileInfo(f).LinkTarget ?? "";
            return t.StartsWith("/proc/", StringComparison.Ordinal) || t.StartsWith("/sys/", StringComparison.Ordinal)
                || t.EndsWith(".dll", StringComparison.Ordinal) || t.EndsWith(".pdb", StringComparison.Ordinal) || t.EndsWith(".so", StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    public static int Count() => List().Length;

    /// <summary>The numbers of the open fds (as <see cref="List"/>).</summary>
    public static IEnumerable<int> Numbers() => List().Select(f => int.Parse(Path.GetFileName(f), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// The fd count once it equals <paramref name="expected"/>, or the last count after 1 s. Runtime and test-host
    /// threads open short-lived fds of their own now and then (seen as entries whose link is already gone when read);
    /// a real leak persists, so a brief recount separates the two.
    /// </summary>
    public static int CountSettled(int expected)
    {
        int n = Count();
        using var settle = new ManualResetEventSlim();
        for (int i = 0; i < 100 && n != expected; i++)
        {
            settle.Wait(10);
            n = Count();
        }
        return n;
    }

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
        int after = Fds.CountSettled(_before);
        if (after == _before) return;
        // The count can stay off for a moment because of a runtime thread's short-lived fd that is gone again by the
        // time the table is read by name (seen as an empty diff). A leak is a difference in the table itself.
        string diff = Fds.Diff(_beforeMap, Fds.Snapshot());
        Assert.That(diff, Is.Empty, $"fd leak ({_before} fds before, {after} after)");
    }
}
