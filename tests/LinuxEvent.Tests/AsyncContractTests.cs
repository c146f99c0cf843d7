using System.Text;
using System.Threading.Channels;

namespace LinuxEvent.Tests;

/// <summary>
/// The async layer, written once and run on reactor (epoll), proactor (uring) and both fakes. Socket traffic goes
/// through <see cref="Wire"/>: real socket pairs for real backends; for the fakes, the same bytes are delivered by
/// scripting the backend (inject readiness / complete the pending receive).
/// </summary>
[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.AllWithSqPoll))]
public class AsyncContractTests(Backend backend) : FdCheckedTest
{
    private static void AssertNoLiveOperations(Loop loop)
    {
        if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero, "LiveOperationCount");
    }

    [Test]
    public void RunMainReturnsAfterMainCompletesAndContinuationsStayOnTheLoopThread()
    {
        using var loop = backend.Create();
        int loopThread = Environment.CurrentManagedThreadId;
        var threads = new List<int>();
        loop.Run(async () =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Yield();
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Run(() => { });          // completes on the thread pool; the continuation comes back
            threads.Add(Environment.CurrentManagedThreadId);
        });
        Assert.That(threads, Has.Count.EqualTo(4));
        Assert.That(threads, Is.All.EqualTo(loopThread));
        Assert.That(SynchronizationContext.Current, Is.Not.InstanceOf<LoopSynchronizationContext>(), "context restored");
    }

    [Test]
    public void RunMainRethrowsMainsException()
    {
        using var loop = backend.Create();
        var ex = Assert.Throws<FormatException>(() => loop.Run(async () =>
        {
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            throw new FormatException("from main");
        }));
        Assert.That(ex!.Message, Is.EqualTo("from main"));
    }

    // Regression (code review): Run(main) slept in the kernel forever when main completed off the loop thread
    // (a TaskCompletionSource set elsewhere, Task.Delay, ConfigureAwait(false)); nothing else woke it.
    [Test]
    public void RunMainReturnsWhenMainCompletesOnAnotherThread()
    {
        using var loop = backend.Create();
        var done = new TaskCompletionSource();
        var setter = new Thread(() => done.SetResult());
        loop.Post(_ => setter.Start());
        var run = Task.Run(() => loop.Run(() => done.Task));     // nothing on the loop wakes it but main's completion
        Assert.That(run.Wait(TimeSpan.FromSeconds(10)), Is.True, "Run(main) returned");
        setter.Join();
    }

    [Test]
    public void ContinuationsRunInCompletionOrder()
    {
        using var loop = backend.Create();
        var order = new List<int>();
        loop.Run(async () =>
        {
            var tasks = new List<Task>();
            foreach (int ms in new[] { 5, 1, 3, 2, 4 })
                tasks.Add(Delay(ms));
            async Task Delay(int ms) { await loop.DelayAsync(TimeSpan.FromMilliseconds(ms)); order.Add(ms); }
            await Task.WhenAll(tasks);
        });
        Assert.That(order, Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
    }

    [Test]
    public void SpawnedTasksAreIsolated()
    {
        using var loop = backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, e) => errors.Add(e);
        int finished = 0;
        loop.Run(async () =>
        {
            var bad = loop.Spawn(async () => { await loop.DelayAsync(TimeSpan.FromMilliseconds(1)); throw new InvalidDataException("one task failed"); });
            var good = loop.Spawn(async () => { await loop.DelayAsync(TimeSpan.FromMilliseconds(3)); finished++; });
            await good;
            try { await bad; } catch (InvalidDataException) { }
        });
        Assert.That(finished, Is.EqualTo(1));
        Assert.That(errors.Select(e => e.Message), Is.EqualTo(new[] { "one task failed" }));
    }

    [Test]
    public void TenThousandConcurrentTasksOnOneLoop()
    {
        using var loop = backend.Create();
        int done = 0;
        loop.Run(async () =>
        {
            var tasks = new Task[10_000];
            for (int i = 0; i < tasks.Length; i++)
            {
                int delay = i % 7;
                tasks[i] = loop.Spawn(async () =>
                {
                    await loop.DelayAsync(TimeSpan.FromMilliseconds(delay));
                    await Task.Yield();
                    done++;
                });
            }
            await Task.WhenAll(tasks);
        });
        Assert.That(done, Is.EqualTo(10_000));
    }

    [Test]
    public void ReceiveAndSendLookLikeBlockingCode()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        string got = "";
        loop.Run(async () =>
        {
            var reader = loop.Spawn(async () =>
            {
                var buf = new byte[64];
                int n = await loop.ReceiveAsync(wire.Local, buf);
                got = Encoding.ASCII.GetString(buf, 0, n);
            });
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));     // the receive is now waiting
            wire.Deliver("ping");
            await reader;
        });
        Assert.That(got, Is.EqualTo("ping"));
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void CancellationBeforeTheCallThrowsAtOnce()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        loop.Run(async () =>
        {
            Assert.ThrowsAsync<TaskCanceledException>(async () => await loop.ReceiveAsync(wire.Local, new byte[8], cts.Token));
            Assert.ThrowsAsync<TaskCanceledException>(async () => await loop.DelayAsync(TimeSpan.FromSeconds(1), cts.Token));
            await Task.CompletedTask;
        });
        AssertNoLiveOperations(loop);
    }

    [Test]
    public void CancellationDuringAPendingReceiveCancelsTheKernelOperation()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var cts = new CancellationTokenSource();
        Exception? caught = null;
        loop.Run(async () =>
        {
            var receive = loop.ReceiveAsync(wire.Local, new byte[8], cts.Token).AsTask();
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            cts.Cancel();
            try { await receive; } catch (Exception e) { caught = e; }
        });
        Assert.That(caught, Is.InstanceOf<OperationCanceledException>());
        AssertNoLiveOperations(loop);
        // Nothing was consumed: a later receive gets the data.
        string after = "";
        loop.Run(async () =>
        {
            var t = loop.Spawn(async () => { var b = new byte[8]; int n = await loop.ReceiveAsync(wire.Local, b); after = Encoding.ASCII.GetString(b, 0, n); });
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            wire.Deliver("late");
            await t;
        });
        Assert.That(after, Is.EqualTo("late"));
    }

    [Test]
    public void CancelAtTheSameInstantDataArrivesHasExactlyOneOutcomeAndLosesNoBytes()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        for (int round = 0; round < 20; round++)
        {
            using var cts = new CancellationTokenSource();
            string outcome = "";
            var buf = new byte[16];
            loop.Run(async () =>
            {
                var receive = loop.ReceiveAsync(wire.Local, buf, cts.Token).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                wire.Deliver("x" + round);     // data and cancellation land in the same iteration
                cts.Cancel();
                try { int n = await receive; outcome = "data:" + Encoding.ASCII.GetString(buf, 0, n); }
                catch (OperationCanceledException) { outcome = "cancelled"; }
            });
            if (outcome == "cancelled")
            {
                // The bytes must still be there for the next receive.
                string rest = "";
                loop.Run(async () =>
                {
                    if (loop is ProactorLoop { Fake: not null } || loop is ReactorLoop { Fake: not null })
                    {
                        var t = loop.Spawn(async () => { int n = await loop.ReceiveAsync(wire.Local, buf); rest = Encoding.ASCII.GetString(buf, 0, n); });
                        await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                        if (loop is ProactorLoop { Fake: not null }) wire.Deliver("x" + round);   // the fake never had the bytes in a kernel
                        else ((ReactorLoop)loop).Fake!.Inject(wire.Local, Readiness.Readable);
                        await t;
                    }
                    else
                    {
                        int n = await loop.ReceiveAsync(wire.Local, buf);
                        rest = Encoding.ASCII.GetString(buf, 0, n);
                    }
                });
                Assert.That(rest, Is.EqualTo("x" + round), $"round {round}: bytes survived the cancellation");
            }
            else Assert.That(outcome, Is.EqualTo("data:x" + round));
            AssertNoLiveOperations(loop);
        }
    }

    // Regression (code review): disposal dropped pending readiness waits and delays, so their awaits never resumed;
    // later the proactor settled them as OperationCanceledException while the reactor used ObjectDisposedException.
    [Test]
    public void PendingAwaitsCompleteWhenTheLoopIsDisposed()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        Task? receive = null, delay = null;
        try
        {
            loop.Run(async () =>
            {
                receive = loop.ReceiveAsync(a, new byte[8]).AsTask();
                delay = loop.DelayAsync(TimeSpan.FromHours(1)).AsTask();
                await Task.Yield();
            });
            Assert.That(receive!.IsCompleted || delay!.IsCompleted, Is.False, "both still waiting");
            loop.Dispose();
            Assert.That(receive.IsCompleted, Is.True, "the receive resumed");
            Assert.That(delay!.IsCompleted, Is.True, "the delay resumed");
            Assert.That(receive.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>(), "the same outcome on every backend");
            Assert.That(delay.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>());
        }
        finally
        {
            loop.Dispose();
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    [Test]
    public void AwaitingAValueTaskTwiceIsDetected()
    {
        using var loop = backend.Create();
        Exception? misuse = null;
        loop.Run(async () =>
        {
            var vt = loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            await vt;
            var other = loop.DelayAsync(TimeSpan.FromMilliseconds(2));   // reuses the pooled source
            try { await vt; } catch (InvalidOperationException e) { misuse = e; }
            await other;                                                  // unaffected
        });
        Assert.That(misuse, Is.Not.Null);
        Assert.That(misuse!.Message, Does.Contain("awaited"));
    }

    [Test]
    public void ChannelsWorkBetweenTasksOnTheLoopWithoutExtraThreads()
    {
        using var loop = backend.Create();
        int loopThread = Environment.CurrentManagedThreadId;
        var received = new List<int>();
        bool offThread = false;
        loop.Run(async () =>
        {
            var numbers = Channel.CreateBounded<int>(4);
            var words = Channel.CreateUnbounded<string>();
            var producer = loop.Spawn(async () =>
            {
                for (int i = 0; i < 100; i++) await numbers.Writer.WriteAsync(i);
                numbers.Writer.Complete();
            });
            var consumer = loop.Spawn(async () =>
            {
                await foreach (int n in numbers.Reader.ReadAllAsync())
                {
                    if (Environment.CurrentManagedThreadId != loopThread) offThread = true;
                    received.Add(n);
                }
            });
            await Task.WhenAll(producer, consumer);

            // "select" over two channels.
            var a = Channel.CreateUnbounded<string>();
            var later = loop.Spawn(async () => { await loop.DelayAsync(TimeSpan.FromMilliseconds(2)); await words.Writer.WriteAsync("words first"); });
            var ra = a.Reader.ReadAsync().AsTask();
            var rw = words.Reader.ReadAsync().AsTask();
            var winner = await Task.WhenAny(ra, rw);
            Assert.That(winner, Is.SameAs(rw));
            Assert.That(await rw, Is.EqualTo("words first"));
            await later;
        });
        Assert.That(received, Is.EqualTo(Enumerable.Range(0, 100)));
        Assert.That(offThread, Is.False);
    }

    [Test]
    public void DelayAsyncInSteadyStateAllocatesNothing()
    {
        using var loop = backend.Create();
        long allocated = -1;
        loop.Run(async () =>
        {
            for (int i = 0; i < 200; i++) await loop.DelayAsync(TimeSpan.Zero);     // warm up pools and JIT
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++) await loop.DelayAsync(TimeSpan.Zero);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        Assert.That(allocated, Is.Zero);
    }
}
