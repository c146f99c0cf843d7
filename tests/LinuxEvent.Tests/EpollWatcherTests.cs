using System.Text;

namespace LinuxEvent.Tests;

/// <summary>Watchers on real fds: the kernel's readiness semantics (level and edge, one-shot, EPOLLERR/EPOLLHUP).</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.RealReactors))]
public class EpollWatcherTests(Backend backend) : FdCheckedTest
{
    private static byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);

    [Test]
    public void ReadableCallbackRunsAndSeesTheData()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            string got = "";
            var watcher = loop.Watch(r, WatchOptions.Read, wt =>
            {
                Span<byte> buf = stackalloc byte[64];
                int n = Posix.TryRead(wt.Fd, buf);
                got += Encoding.ASCII.GetString(buf[..n]);
            }, null);
            Posix.Write(w, Bytes("hello"));
            loop.RunUntil(() => got == "hello");
            Assert.That(watcher.IsActive, Is.True);
            Assert.That(loop.Unwatch(r), Is.True);
            Assert.That(loop.Unwatch(r), Is.False, "unwatch is idempotent");
            Assert.That(watcher.Cancel(), Is.False);
            Assert.That(loop.WatcherCount, Is.Zero);
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void WatchingAgainReplacesTheOldWatcher()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            int oldHits = 0, newHits = 0;
            var old = loop.Watch(r, WatchOptions.Read, _ => oldHits++, null);
            var replacement = loop.Watch(r, WatchOptions.Read, wt => { newHits++; Posix.TryRead(wt.Fd, new byte[16]); }, null);
            Assert.That(old.IsActive, Is.False);
            Assert.That(loop.WatcherCount, Is.EqualTo(1));
            Posix.Write(w, Bytes("x"));
            loop.RunUntil(() => newHits == 1);
            Assert.That(oldHits, Is.Zero);
            Assert.That(old.Cancel(), Is.False, "the replaced watcher is already inactive");
            Assert.That(replacement.Cancel(), Is.True);
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void OneShotDisarmsAfterOneReportAndEnableReadRearmsWithTheSameMask()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            int hits = 0;
            var watcher = loop.Watch(r, WatchOptions.Read | WatchOptions.OneShot, _ => hits++, null);
            Posix.Write(w, Bytes("data stays unread"));
            loop.RunUntil(() => hits == 1);
            for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
            Assert.That(hits, Is.EqualTo(1), "disarmed although still readable");
            watcher.EnableRead();   // interest unchanged, but EPOLL_CTL_MOD re-arms
            loop.RunUntil(() => hits == 2);
            watcher.Cancel();
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void EdgeTriggeredPartialReadGetsNoNewEventUntilNewData()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            int hits = 0, total = 0;
            loop.Watch(r, WatchOptions.Read | WatchOptions.EdgeTriggered, wt =>
            {
                hits++;
                total += Posix.TryRead(wt.Fd, new byte[10]);   // deliberately partial
            }, null);
            Posix.Write(w, new byte[100]);
            loop.RunUntil(() => hits == 1);
            for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
            Assert.That(hits, Is.EqualTo(1), "no new edge while 90 bytes remain unread");
            Posix.Write(w, new byte[1]);
            loop.RunUntil(() => hits == 2);
            Assert.That(total, Is.EqualTo(20));
            loop.Unwatch(r);
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void LevelTriggeredReportsAgainWhileDataRemains()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            int hits = 0;
            loop.Watch(r, WatchOptions.Read, wt => { hits++; Posix.TryRead(wt.Fd, new byte[1]); }, null);
            Posix.Write(w, new byte[3]);
            loop.RunUntil(() => hits == 3);
            loop.RunOnce(TimeSpan.FromMilliseconds(5));
            Assert.That(hits, Is.EqualTo(3), "drained: no more reports");
            loop.Unwatch(r);
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void HangUpForcesAReadSoEofIsSeen()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            int eof = 0;
            loop.Watch(r, WatchOptions.Read, wt => { if (Posix.TryRead(wt.Fd, new byte[8]) == 0) { eof++; wt.Cancel(); } }, null);
            Posix.Close(w);
            w = -1;
            loop.RunUntil(() => eof == 1);
        }
        finally { Posix.Close(r); if (w >= 0) Posix.Close(w); }
    }

    [Test]
    public void ErrorGoesToTheErrorCallbackAloneWhenSet()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        Posix.Close(r);     // the write end now reports EPOLLERR
        try
        {
            int errors = 0, writes = 0;
            var watcher = loop.Watch(w, WatchOptions.Write, null, _ => writes++, wt => { errors++; wt.Cancel(); });
            loop.RunUntil(() => errors == 1);
            Assert.That(writes, Is.Zero);
        }
        finally { Posix.Close(w); }
    }

    [Test]
    public void ErrorCountsAsWritableWithoutAnErrorCallback()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        Posix.Close(r);
        try
        {
            int writes = 0, result = 0;
            loop.Watch(w, WatchOptions.Write, null, wt => { writes++; result = Posix.TryWrite(wt.Fd, new byte[1]); wt.Cancel(); });
            loop.RunUntil(() => writes == 1);
            Assert.That(result, Is.EqualTo(-32), "the write callback sees EPIPE");
        }
        finally { Posix.Close(w); }
    }

    [Test]
    public void ReadRunsBeforeWriteAndWriteIsSkippedWhenReadCancelled()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var log = new List<string>();
            Posix.Write(b, Bytes("x"));
            loop.Watch(a, WatchOptions.Read | WatchOptions.Write, wt => { log.Add("read"); wt.Cancel(); }, _ => log.Add("write"));
            loop.RunUntil(() => log.Count > 0);
            loop.RunOnce(TimeSpan.FromMilliseconds(2));
            Assert.That(log, Is.EqualTo(new[] { "read" }));

            log.Clear();
            loop.Watch(a, WatchOptions.Read | WatchOptions.Write, _ => log.Add("read"), wt => { log.Add("write"); wt.Cancel(); });
            loop.RunUntil(() => log.Count >= 2);
            Assert.That(log.Take(2), Is.EqualTo(new[] { "read", "write" }));
            loop.Unwatch(a);
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void AWatcherWhoseFdWasClosedAndReusedInTheSameBatchGetsNothingMore()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r1, w1) = Posix.Pipe();
        var (r2, w2) = Posix.Pipe();
        int reused = -1, extra = -1;
        try
        {
            var log = new List<string>();
            Watcher? second = null;
            // Whichever watcher runs first closes the other's fd, reopens a pipe on the same number and watches it.
            void First(Watcher wt)
            {
                log.Add($"first:{wt.Fd}");
                var victim = wt.Fd == r1 ? r2 : r1;
                Posix.Close(victim);
                var (nr, nw) = Posix.Pipe();
                Assert.That(nr, Is.EqualTo(victim), "the kernel reuses the lowest free number");
                reused = nr;
                extra = nw;
                loop.Watch(nr, WatchOptions.Read, x => log.Add($"new:{x.Fd}"), null);
                wt.Cancel();
            }
            loop.Watch(r1, WatchOptions.Read, First, null);
            second = loop.Watch(r2, WatchOptions.Read, First, null);
            TestContext.Out.WriteLine($"r1={r1} w1={w1} r2={r2} w2={w2}");
            Posix.Write(w1, Bytes("a"));
            Posix.Write(w2, Bytes("b"));
            loop.RunUntil(() => log.Count >= 1);
            loop.RunOnce(TimeSpan.FromMilliseconds(5));
            TestContext.Out.WriteLine(string.Join(",", log));
            Assert.That(log, Has.Count.EqualTo(1), "neither the old watcher nor the new one saw the stale report: " + string.Join(",", log));
            loop.Unwatch(reused);
        }
        finally
        {
            foreach (var fd in new[] { r1, w1, r2, w2, reused, extra }.Distinct())
                if (fd >= 0 && Posix.IsOpen(fd)) Posix.Close(fd);
        }
    }

    [Test]
    public void SetInterestSwitchesDirectionsAndRearmsAOneShotWatcher()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var log = new List<string>();
            var w = loop.Watch(a, WatchOptions.Read | WatchOptions.OneShot, _ => log.Add("read"), _ => log.Add("write"));
            w.SetInterest(read: false, write: true);
            loop.RunUntil(() => log.Count == 1);
            Assert.That(log, Is.EqualTo(new[] { "write" }));
            Assert.That((w.IsReadEnabled, w.IsWriteEnabled), Is.EqualTo((false, true)));
            Posix.Write(b, "x"u8);
            w.SetInterest(read: true, write: false);       // same call re-arms the one-shot registration
            loop.RunUntil(() => log.Count == 2);
            Assert.That(log[1], Is.EqualTo("read"));
            w.Cancel();
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void DisablingBothDirectionsPausesEvenHangUp()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            int hits = 0;
            var watcher = loop.Watch(r, WatchOptions.Read, _ => hits++, null);
            watcher.DisableRead();
            Posix.Close(w);
            w = -1;
            for (int i = 0; i < 3; i++) loop.RunOnce(TimeSpan.FromMilliseconds(2));
            Assert.That(hits, Is.Zero);
            watcher.EnableRead();
            loop.RunUntil(() => hits >= 1);
            watcher.Cancel();
        }
        finally { Posix.Close(r); if (w >= 0) Posix.Close(w); }
    }

    [Test]
    public void WatchingAClosedFdThrowsEbadfAndRegistersNothing()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        Posix.Close(r);
        Posix.Close(w);
        var ex = Assert.Throws<LinuxEventException>(() => loop.Watch(r, WatchOptions.Read, _ => { }, null));
        Assert.That(ex!.ErrnoName, Is.EqualTo("EBADF"));
        Assert.That(ex.Errno, Is.EqualTo(9));
        Assert.That(ex.Call, Is.EqualTo($"epoll_ctl(ADD, fd={r})"));
        Assert.That(ex.Message, Does.Contain("EBADF"));
        Assert.That(loop.WatcherCount, Is.Zero);
    }

    [Test]
    public void WatchingARegularFileThrowsEpermAndKeepsTheEarlierWatcher()
    {
        using var loop = (ReactorLoop)backend.Create();
        string path = Path.GetTempFileName();
        try
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            int fd = (int)file.DangerousGetHandle();
            var ex = Assert.Throws<LinuxEventException>(() => loop.Watch(fd, WatchOptions.Read, _ => { }, null));
            Assert.That(ex!.ErrnoName, Is.EqualTo("EPERM"));
            Assert.That(ex.Message, Does.Contain("regular files"));
            Assert.That(loop.WatcherCount, Is.Zero);
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void NegativeFdIsAnArgumentError()
    {
        using var loop = (ReactorLoop)backend.Create();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => loop.Watch(-1, WatchOptions.Read, _ => { }, null));
        Assert.That(ex!.ParamName, Is.EqualTo("fd"));
    }

    [Test]
    public void DataSlotCarriesOwnerState()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (r, w) = Posix.Pipe();
        try
        {
            object? seen = null;
            var watcher = loop.Watch(r, WatchOptions.Read, wt => { seen = wt.Data; wt.Cancel(); }, null);
            watcher.Data = "owner";
            Posix.Write(w, Bytes("z"));
            loop.RunUntil(() => seen is not null);
            Assert.That(seen, Is.EqualTo("owner"));
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void DisposeClosesEveryFdTheLoopOpened()
    {
        int before = Fds.Count();
        var loop = (ReactorLoop)backend.Create();
        Assert.That(Fds.Count(), Is.GreaterThan(before), "epoll + eventfd are open");
        loop.Dispose();
        Assert.That(Fds.CountSettled(before), Is.EqualTo(before));
    }
}
