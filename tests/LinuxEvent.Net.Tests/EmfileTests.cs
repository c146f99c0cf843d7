using System.Net;
using Microsoft.Win32.SafeHandles;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// Real fd exhaustion: RLIMIT_NOFILE of this process is lowered (setrlimit), the remaining fd numbers are filled, and a pending connection makes accept fail with EMFILE. The
/// window with the low limit is a few hundred milliseconds and the limit is restored in a finally block.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
[NonParallelizable]
public class EmfileTests(Backend backend) : FdCheckedTest
{
    [Test]
    [Explicit("Fills this process's whole fd table: the runtime itself may need an fd meanwhile (e.g. the memfd of its W^X "
        + "double mapping) and abort the test host. Run by hand; CI covers the same handling through the accept seam "
        + "(ListenerEmfileSeamTests) and the fake proactor (MultishotListenerTests).")]
    public void EmfileIsReportedAndBackedOffWithoutSpinningThenAcceptingResumes()
    {
        using var loop = backend.Create();
        var errors = new List<LinuxEventSocketException>();
        int accepted = 0;
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => { accepted++; Posix.Close(c.Fd); },
            new ListenerOptions { ResourceErrorBackoff = TimeSpan.FromMilliseconds(100) });
        listener.OnError = (_, e) => errors.Add(e);
        var (soft, hard) = Posix.GetFileLimit();
        // Paused before the client connects (and, on the proactor, its multishot accept cancelled and settled), so
        // the connection waits in the kernel's backlog until the fd numbers are exhausted.
        listener.Pause();
        if (loop is ProactorLoop pl) loop.RunUntil(() => pl.LiveOperationCount == 0);
        int client = Posix.StartTcpConnect((IPEndPoint)listener.LocalEndPoint!, out _);
        int maxFd = Directory.GetFiles("/proc/self/fd").Select(f => int.Parse(Path.GetFileName(f))).Max();
        var filler = new List<SafeFileHandle>();
        bool lowered = false;
        string? fillError = null;
        try
        {
            Posix.SetFileLimit((ulong)maxFd + 8, hard);
            lowered = true;
            while (true)
            {
                try { filler.Add(File.OpenHandle("/dev/null")); }
                catch (IOException ex) { fillError = ex.Message; break; }   // EMFILE: every allowed fd number is taken
            }
            listener.Resume();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            int iterations = 0;
            while (sw.Elapsed < TimeSpan.FromMilliseconds(450))
            {
                loop.RunOnce(TimeSpan.FromMilliseconds(20));
                iterations++;
            }
            Assert.That(errors, Is.Not.Empty, "EMFILE must be reported");
            Assert.That(errors[0].ErrnoName, Is.EqualTo("EMFILE"));
            // One report per backoff period, not one per iteration: about 450/100 + 1.
            Assert.That(errors.Count, Is.InRange(1, 7), $"{errors.Count} reports in {iterations} iterations");
            Assert.That(accepted, Is.Zero, $"{backend}: filled {filler.Count} up to limit {maxFd + 8}: {fillError}");
        }
        finally
        {
            foreach (var h in filler) h.Dispose();
            if (lowered) Posix.SetFileLimit(soft, hard);
        }
        loop.RunUntil(() => accepted == 1, TimeSpan.FromSeconds(5));
        Assert.That(listener.IsBackingOff, Is.False);
        Posix.Close(client);
        listener.Dispose();
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0);
    }
}
