using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>Child processes through posix_spawn, pipes and pidfds, on both models.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ChildProcessTests(Backend backend) : FdCheckedTest
{
    private static void Settle(Loop loop)
    {
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0);
        Assert.That(loop.ProcessWatchCount, Is.Zero);
    }

    /// <summary>Collects a stream's bytes in callback mode.</summary>
    private static MemoryStream Collect(LoopStream? s)
    {
        var ms = new MemoryStream();
        s!.OnData = (_, d) => ms.Write(d);
        s.Start();
        return ms;
    }

    [Test]
    public void EchoThroughCatAndExitAfterOutputEof()
    {
        using var loop = backend.Create();
        var child = ChildProcess.Start(loop, new ProcessSpec("cat") { Stdin = StdioMode.Pipe });
        var output = new StringBuilder();
        bool outputEndedBeforeExit = false;
        child.Stdout!.OnData = (_, d) => output.Append(Encoding.ASCII.GetString(d));
        child.Stdout.OnEnd = _ => outputEndedBeforeExit = !child.HasExited;
        child.Stdout.Start();
        Collect(child.Stderr);
        ProcessExit? exit = null;
        child.OnExit = (_, e) => exit = e;
        child.Stdin!.Write("hello\n"u8);
        loop.RunUntil(() => output.ToString() == "hello\n");
        child.Stdin.Write("world\n"u8);
        child.Stdin.CloseAfterDrain();                 // EOF for cat
        loop.RunUntil(() => exit is not null);
        Assert.That(output.ToString(), Is.EqualTo("hello\nworld\n"));
        Assert.That(outputEndedBeforeExit, Is.True);
        Assert.That(exit!.Value.Exited && exit.Value.ExitCode == 0, Is.True, exit.ToString());
        Assert.That(child.Kill(), Is.False, "reaped: no signal can reach a recycled pid");
        Assert.That(Directory.Exists($"/proc/{child.Pid}"), Is.False, "no zombie");
        loop.RunUntil(() => child.Stdout.Completion.IsCompleted && child.Stderr!.Completion.IsCompleted && child.Stdin.Completion.IsCompleted);
        Settle(loop);
    }

    [Test]
    public void TenMebibytesOfOutputWithoutDeadlock()
    {
        using var loop = backend.Create();
        const int size = 10 * 1024 * 1024;
        var child = ChildProcess.Start(loop, new ProcessSpec("sh", "-c", $"head -c {size} /dev/zero; echo done >&2"));
        long bytes = 0;
        child.Stdout!.OnData = (_, d) => bytes += d.Length;
        child.Stdout.Start();
        var err = Collect(child.Stderr);
        loop.RunUntil(() => child.HasExited, TimeSpan.FromSeconds(30));
        Assert.That(bytes, Is.EqualTo(size));
        Assert.That(Encoding.ASCII.GetString(err.ToArray()), Is.EqualTo("done\n"));
        Assert.That(child.Exit!.Value.ExitCode, Is.Zero);
        Settle(loop);
    }

    [Test]
    public void ExitCodesAndSignalsAreDecoded()
    {
        using var loop = backend.Create();
        var quiet = new ProcessSpec("sh", "-c", "exit 3") { Stdout = StdioMode.Null, Stderr = StdioMode.Null };
        var a = ChildProcess.Start(loop, quiet);
        var b = ChildProcess.Start(loop, new ProcessSpec("sh", "-c", "kill -USR1 $$") { Stdout = StdioMode.Null, Stderr = StdioMode.Null });
        var c = ChildProcess.Start(loop, new ProcessSpec("sleep", "30") { Stdout = StdioMode.Null, Stderr = StdioMode.Null });
        Assert.That(c.Kill(9), Is.True);
        loop.RunUntil(() => a.HasExited && b.HasExited && c.HasExited);
        Assert.That(a.Exit!.Value.Exited, Is.True);
        Assert.That(a.Exit.Value.ExitCode, Is.EqualTo(3));
        Assert.That(b.Exit!.Value.Signaled, Is.True);
        Assert.That(b.Exit.Value.Signal, Is.EqualTo(10));
        Assert.That(c.Exit!.Value.Signal, Is.EqualTo(9));
        Settle(loop);
    }

    [Test]
    public void TimeoutSendsTermThenKillAfterTheGracePeriod()
    {
        using var loop = backend.Create();
        // The shell ignores TERM (and tells us it is ready), so only the escalation to KILL ends it.
        var spec = new ProcessSpec("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done")
        {
            Timeout = TimeSpan.FromMilliseconds(150),
            KillGracePeriod = TimeSpan.FromMilliseconds(150),
            Stderr = StdioMode.Null,
        };
        var child = ChildProcess.Start(loop, spec);
        var output = Collect(child.Stdout);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        loop.RunUntil(() => child.HasExited, TimeSpan.FromSeconds(10));
        Assert.That(child.TimedOut, Is.True);
        Assert.That(Encoding.ASCII.GetString(output.ToArray()), Is.EqualTo("ready\n"));
        Assert.That(child.Exit!.Value.Signaled && child.Exit.Value.Signal == 9, Is.True, child.Exit.ToString());
        Assert.That(sw.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)));
        Assert.That(loop.PendingTimerCount, Is.Zero);
        Settle(loop);
    }

    [Test]
    public void ATermAbidingChildEndsOnTheFirstSignal()
    {
        using var loop = backend.Create();
        var child = ChildProcess.Start(loop, new ProcessSpec("sleep", "30")
        {
            Timeout = TimeSpan.FromMilliseconds(50), KillGracePeriod = TimeSpan.FromSeconds(20),
            Stdout = StdioMode.Null, Stderr = StdioMode.Null,
        });
        loop.RunUntil(() => child.HasExited);
        Assert.That(child.Exit!.Value.Signal, Is.EqualTo(15));
        Assert.That(loop.PendingTimerCount, Is.Zero, "the KILL escalation timer was cancelled");
        Settle(loop);
    }

    [Test]
    public void DisposingTheLoopFaultsCompletionInsteadOfLeavingItPendingForever()
    {
        var loop = backend.Create();
        var child = ChildProcess.Start(loop, new ProcessSpec("sleep", "30") { Stdout = StdioMode.Pipe, Stderr = StdioMode.Null });
        int pid = child.Pid;
        bool onExitRan = false;
        child.OnExit = (_, _) => onExitRan = true;
        var completion = child.Completion;
        child.Stdout!.OnData = (_, _) => { };
        child.Stdout.Start();
        loop.RunOnce(TimeSpan.Zero);
        loop.Dispose();
        Assert.That(completion.IsFaulted, Is.True, completion.Status.ToString());
        Assert.That(completion.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>());
        Assert.That(completion.Exception.InnerException!.Message, Does.Contain("ChildProcess.Completion"));
        Assert.That(child.Completion.IsFaulted, Is.True, "a Completion asked for afterwards is faulted too");
        Assert.That(onExitRan, Is.False);
        Assert.That(child.Stdout.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
        // The process was left running, as documented: end and reap it through another loop's pid watch.
        using var reaper = backend.Create();
        bool reaped = false;
        using var watch = reaper.WatchProcess(pid, (_, _) => reaped = true);
        Posix.Kill(pid, 9);
        reaper.RunUntil(() => reaped);
    }

    [Test]
    public void AnExitAlreadyKnownIsReportedAtLoopDisposalEvenWithUnreadOutput()
    {
        var loop = backend.Create();
        // stdout is a pipe nobody reads, so the exit waits for an EOF the reader never sees.
        var child = ChildProcess.Start(loop, new ProcessSpec("sh", "-c", "exit 3") { Stdout = StdioMode.Pipe, Stderr = StdioMode.Null });
        int pid = child.Pid;
        ProcessExit? reported = null;
        child.OnExit = (_, e) => reported = e;
        var completion = child.Completion;
        loop.RunUntil(() => !Directory.Exists($"/proc/{pid}"));     // reaped by the loop's pid watch: the exit is known
        Assert.That(child.HasExited, Is.False, "not reported yet: stdout has not reached EOF");
        loop.Dispose();
        Assert.That(reported?.ExitCode, Is.EqualTo(3), "OnExit ran at disposal");
        Assert.That(completion.IsCompletedSuccessfully, Is.True, completion.Status.ToString());
        Assert.That(completion.Result.ExitCode, Is.EqualTo(3));
    }

    [Test]
    public void MissingProgramIsAClearErrorNotExitCode127()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<LinuxEventException>(() => ChildProcess.Start(loop, new ProcessSpec("no-such-program-le-net")));
        Assert.That(ex!.ErrnoName, Is.EqualTo("ENOENT"));
        Assert.That(ex.Message, Does.Contain("no-such-program-le-net"));
        Settle(loop);
    }

    // Regression (Net review): Timeout, KillGracePeriod and the stream options were checked only after posix_spawn,
    // leaving a running child and its pipes behind when they were invalid.
    [Test]
    public void InvalidProcessOptionsAreRejectedBeforeAnythingIsSpawned()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ChildProcess.Start(loop, new ProcessSpec("sleep", "30") { Timeout = TimeSpan.FromSeconds(-1) }));
        Assert.That(ex!.Message, Does.Contain("Timeout"));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ChildProcess.Start(loop, new ProcessSpec("sleep", "30") { KillGracePeriod = TimeSpan.FromSeconds(-1) }));
        // No child was started: none is left for this process to reap.
        Assert.That(Directory.GetDirectories($"/proc/{Environment.ProcessId}/task").Length, Is.GreaterThan(0));
        Assert.That(File.ReadAllText($"/proc/{Environment.ProcessId}/task/{Environment.ProcessId}/children").Trim(), Is.Empty);
    }

    [Test]
    public void EnvironmentOverlayClearAndWorkingDirectory()
    {
        using var loop = backend.Create();
        var overlay = ChildProcess.Start(loop, new ProcessSpec("sh", "-c", "echo \"$LE_A|${HOME+set}|$(pwd)\"")
        {
            Environment = new Dictionary<string, string?> { ["LE_A"] = "x y", ["HOME"] = null },
            WorkingDirectory = "/tmp",
        });
        var o1 = Collect(overlay.Stdout);
        Collect(overlay.Stderr);
        var cleared = ChildProcess.Start(loop, new ProcessSpec("/usr/bin/env") { ClearEnvironment = true, Environment = new Dictionary<string, string?> { ["ONLY"] = "1" } });
        var o2 = Collect(cleared.Stdout);
        Collect(cleared.Stderr);
        loop.RunUntil(() => overlay.HasExited && cleared.HasExited);
        Assert.That(Encoding.ASCII.GetString(o1.ToArray()), Is.EqualTo("x y||/tmp\n"));
        Assert.That(Encoding.ASCII.GetString(o2.ToArray()), Is.EqualTo("ONLY=1\n"));
        Settle(loop);
    }

    [Test]
    public void AHundredShortChildrenThroughAPoolLeaveNoFdAndNoZombie()
    {
        using var loop = backend.Create();
        var pool = new ProcessPool(loop, maxConcurrent: 2);
        var children = new List<ChildProcess>();
        int maxRunning = 0, exits = 0;
        var outputs = new Dictionary<int, MemoryStream>();
        for (int i = 0; i < 100; i++)
        {
            int n = i;
            children.Add(pool.Enqueue(new ProcessSpec("sh", "-c", $"echo {n}; exit {n % 7}"),
                onStarted: c => { outputs[n] = Collect(c.Stdout); Collect(c.Stderr); maxRunning = Math.Max(maxRunning, pool.Running); },
                onExit: (_, _) => exits++));
        }
        Assert.That(pool.Queued, Is.EqualTo(100));
        loop.RunUntil(() => exits >= 4);
        Assert.That(maxRunning, Is.LessThanOrEqualTo(2));
        pool.MaxConcurrent = 25;                    // raising the limit starts queued jobs
        loop.RunUntil(() => exits == 100, TimeSpan.FromSeconds(30));
        Assert.That(maxRunning, Is.GreaterThan(2).And.LessThanOrEqualTo(25));
        Assert.That(pool.Running, Is.Zero);
        for (int i = 0; i < 100; i++)
        {
            Assert.That(children[i].Exit!.Value.ExitCode, Is.EqualTo(i % 7));
            Assert.That(Encoding.ASCII.GetString(outputs[i].ToArray()), Is.EqualTo($"{i}\n"));
            Assert.That(Directory.Exists($"/proc/{children[i].Pid}"), Is.False, $"pid {children[i].Pid} left as a zombie");
        }
        loop.RunUntil(() => children.All(c => c.Stdout!.Completion.IsCompleted && c.Stderr!.Completion.IsCompleted));
        Settle(loop);
    }

    [Test]
    public void AsyncReadingOfOutputAndCompletion()
    {
        using var loop = backend.Create();
        var lines = new List<string>();
        ProcessExit exit = default;
        loop.Run(async () =>
        {
            var child = ChildProcess.Start(loop, new ProcessSpec("sh", "-c", "printf 'a\\nb\\nc'; exit 5")
            {
                Stderr = StdioMode.Null, StreamOptions = new LoopStreamOptions { Codec = new LineCodec() },
            });
            while (await child.Stdout!.ReadMessageAsync() is { } line) lines.Add(Encoding.ASCII.GetString(line.Span));
            exit = await child.Completion;
            child.Stdout.Close();
        });
        Assert.That(lines, Is.EqualTo(new[] { "a", "b", "c" }), "an unterminated last line is delivered at EOF");
        Assert.That(exit.ExitCode, Is.EqualTo(5));
        loop.RunOnce(TimeSpan.Zero);
        Settle(loop);
    }
}
