using System.Net;
using System.Net.Sockets;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// Disposing a loop settles every await pending on a stream, listener or connect attempt built on it, and releases
/// what they own: one contract, written once and run on every backend, so the reactor and the proactor are proven to
/// agree. (The reactor used to deactivate its watchers silently, and such awaits never completed.)
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LoopDisposalTests(Backend backend) : FdCheckedTest
{
    /// <summary>Far more than a socket with 4 KiB buffers takes; allocated once, so no test provokes a GC whose reading
    /// of /proc/meminfo the next test's fd count would see.</summary>
    private static readonly byte[] s_moreThanTheSocketTakes = new byte[64 * 1024];

    /// <summary>
    /// Opens a pipe, which takes the lowest free fd numbers (those just released), runs <paramref name="action"/> and
    /// checks that the pipe is still open: an fd closed a second time would have closed it.
    /// </summary>
    private static void AssertClosesNothingMore(Action action)
    {
        var (r, w) = Posix.Pipe();
        try
        {
            action();
            Assert.That(Posix.IsOpen(r) && Posix.IsOpen(w), Is.True, "an fd was closed twice (the reused number was closed)");
        }
        finally
        {
            Posix.Close(r);
            Posix.Close(w);
        }
    }

    [Test]
    public void APendingReadCompletesWhenTheLoopIsDisposedOutsideRun()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var stream = new LoopStream(loop, a);
            var reasons = new List<CloseReason>();
            stream.OnClose = (_, r) => reasons.Add(r);
            var completion = stream.Completion;
            var read = stream.ReadAsync(new byte[64]).AsTask();
            loop.RunOnce(TimeSpan.Zero);                    // the read is armed; nothing arrives
            Assert.That(read.IsCompleted, Is.False);

            loop.Dispose();

            // Settled and resumed within Dispose: the continuations ran in the loop's final drain.
            Assert.That(read.IsCompletedSuccessfully, Is.True);
            Assert.That(read.Result, Is.Zero, "a read pending at close completes as at a local close");
            Assert.That(reasons, Is.EqualTo(new[] { CloseReason.LoopDisposed }));
            Assert.That(stream.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
            Assert.That(completion.IsCompletedSuccessfully && completion.Result == CloseReason.LoopDisposed, Is.True);
            AssertClosesNothingMore(() => { stream.Close(); stream.Dispose(); });
            Assert.That(reasons, Has.Count.EqualTo(1), "OnClose runs exactly once");
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void APendingMessageReadCompletesWhenACallbackDisposesTheLoop()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            LoopStream? stream = null;
            var reasons = new List<CloseReason>();
            bool resumed = false, resumedAfterDisposal = false;
            ReadOnlyMemory<byte>? message = new byte[1];
            int testThread = Environment.CurrentManagedThreadId, resumedOn = 0;
            loop.Run(async () =>
            {
                stream = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec(), FdKind = StreamFdKind.Socket });
                stream.OnClose = (_, r) => reasons.Add(r);
                loop.After(TimeSpan.Zero, l => l.Dispose());     // a callback on the loop thread disposes its loop
                message = await stream.ReadMessageAsync();
                resumed = true;
                resumedAfterDisposal = loop.IsDisposed;
                resumedOn = Environment.CurrentManagedThreadId;
            });

            Assert.That(loop.IsDisposed, Is.True);
            Assert.That(resumed, Is.True, "the awaiting code resumed in the final drain");
            Assert.That(resumedAfterDisposal, Is.True);
            Assert.That(resumedOn, Is.EqualTo(testThread), "it resumed on the loop's thread, not the thread pool");
            Assert.That(message, Is.Null, "a message read pending at close completes with null");
            Assert.That(reasons, Is.EqualTo(new[] { CloseReason.LoopDisposed }));
            AssertClosesNothingMore(() => stream!.Close());
            Assert.That(reasons, Has.Count.EqualTo(1));
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void APendingReadCompletesWhenAnotherThreadDisposesTheRunningLoop()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            using var armed = new ManualResetEventSlim();
            int read = -1;
            CloseReason? reason = null;
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    loop.Run(async () =>
                    {
                        var stream = new LoopStream(loop, a);
                        var pending = stream.ReadAsync(new byte[64]);
                        armed.Set();
                        read = await pending;
                        reason = stream.CloseReason;
                    });
                }
                catch (Exception ex) { failure = ex; }
            });
            thread.Start();
            Assert.That(armed.Wait(TimeSpan.FromSeconds(10)), Is.True, "the read was started");

            loop.Dispose();                                  // stops the loop and waits until it has disposed itself

            Assert.That(thread.Join(TimeSpan.FromSeconds(10)), Is.True, "the loop thread left Run");
            Assert.That(failure, Is.Null);
            Assert.That(read, Is.Zero);
            Assert.That(reason, Is.EqualTo(CloseReason.LoopDisposed));
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void ACallbackModeStreamAndAWaitingWriterAreClosedOnce()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            Net.SetSendBuffer(a, 4096);
            Net.SetReceiveBuffer(b, 4096);
            var reader = new LoopStream(loop, a, new LoopStreamOptions { HighWatermark = 1024, LowWatermark = 512 });
            var reasons = new List<CloseReason>();
            bool ended = false;
            reader.OnData = (_, _) => { };
            reader.OnEnd = _ => ended = true;
            reader.OnClose = (_, r) => reasons.Add(r);
            reader.Start();
            var write = reader.WriteAsync(s_moreThanTheSocketTakes).AsTask();
            loop.RunOnce(TimeSpan.Zero);
            Assert.That(write.IsCompleted, Is.False, "the writer waits for the queue to drain");

            loop.Dispose();

            Assert.That(reasons, Is.EqualTo(new[] { CloseReason.LoopDisposed }));
            Assert.That(ended, Is.False, "disposal is not the peer's end");
            Assert.That(write.IsFaulted, Is.True);
            Assert.That(write.Exception!.InnerException, Is.TypeOf<IOException>().With.Message.Contains("LoopDisposed"));
            AssertClosesNothingMore(reader.Close);
            Assert.That(reasons, Has.Count.EqualTo(1));
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void APendingAcceptFailsNamingTheLoopAndTheListenerReleasesItsSocketAndFile()
    {
        var loop = backend.Create();
        string path = Path.Combine(Path.GetTempPath(), $"le-net-disposal-{Environment.ProcessId}-{backend}.sock");
        File.Delete(path);
        var listener = Listener.Bind(loop, new UnixDomainSocketEndPoint(path), null);
        var accept = listener.AcceptAsync().AsTask();
        loop.RunOnce(TimeSpan.Zero);
        Assert.That(accept.IsCompleted, Is.False);

        loop.Dispose();

        Assert.That(accept.IsFaulted, Is.True);
        var ex = accept.Exception!.InnerException as ObjectDisposedException;
        Assert.That(ex, Is.Not.Null);
        Assert.That(ex!.ObjectName, Is.EqualTo(loop.GetType().Name));
        Assert.That(ex.Message, Does.Contain("Listener.AcceptAsync"));
        Assert.That(File.Exists(path), Is.False, "the socket file the listener created is unlinked");
        AssertClosesNothingMore(listener.Dispose);
        Assert.Throws<ObjectDisposedException>(() => listener.AcceptAsync());
    }

    [Test]
    public void APendingConnectFailsNamingTheLoopAndItsSocketIsClosed()
    {
        int target = Posix.CreateTcpListener(Net.AnyLoopbackPort, backlog: 4);
        try
        {
            var ep = (IPEndPoint)Posix.GetLocalEndPoint(target)!;
            var loop = backend.Create();
            var connect = Connector.ConnectAsync(loop, ep);
            bool called = false;
            var attempt = Connector.Connect(loop, ep, _ => called = true);
            loop.RunOnce(TimeSpan.Zero);                    // both attempts start: a socket each, connecting
            Assert.That(connect.IsCompleted || attempt.IsCompleted, Is.False);

            loop.Dispose();

            Assert.That(connect.IsFaulted, Is.True);
            var ex = connect.Exception!.InnerException as ObjectDisposedException;
            Assert.That(ex, Is.Not.Null);
            Assert.That(ex!.ObjectName, Is.EqualTo(loop.GetType().Name));
            Assert.That(called, Is.False, "disposal cancels a callback attempt silently, as Cancel does");
            Assert.That(attempt.IsCompleted, Is.True);
            Assert.That(attempt.Cancel(), Is.False);
            // Both sockets being connected were closed: the fd check of this fixture proves it.
        }
        finally { Posix.Close(target); }
    }

    [Test]
    public void ClosedComponentsLeaveNoRegistrationBehind()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var (c, d) = Posix.SocketPair();
        try
        {
            Assert.That(LoopDisposal.RegisteredCount(loop), Is.Zero);
            var open = new LoopStream(loop, a);
            var closed = new LoopStream(loop, c);
            var listener = Listener.Bind(loop, Net.AnyLoopbackPort, null);
            var attempt = Connector.Connect(loop, (IPEndPoint)listener.LocalEndPoint!, _ => { });
            Assert.That(LoopDisposal.RegisteredCount(loop), Is.EqualTo(4));
            var reasons = new List<CloseReason>();
            closed.OnClose = (_, r) => reasons.Add(r);
            closed.Close();
            listener.Dispose();
            attempt.Cancel();
            Assert.That(LoopDisposal.RegisteredCount(loop), Is.EqualTo(1), "only the open stream is left");
            loop.RunOnce(TimeSpan.Zero);

            loop.Dispose();

            Assert.That(LoopDisposal.RegisteredCount(loop), Is.Zero);
            Assert.That(open.CloseReason, Is.EqualTo(CloseReason.LoopDisposed));
            Assert.That(reasons, Is.EqualTo(new[] { CloseReason.Local }), "a stream closed before is not closed again");
        }
        finally
        {
            Posix.Close(b);
            Posix.Close(d);
        }
    }

    [Test]
    public void ADisposedLoopIsRefusedWithoutTakingTheFd()
    {
        var loop = backend.Create();
        loop.Dispose();
        var (a, b) = Posix.SocketPair();
        try
        {
            var ex = Assert.Throws<ObjectDisposedException>(() => new LoopStream(loop, a));
            Assert.That(ex!.ObjectName, Is.EqualTo(loop.GetType().Name));
            Assert.That(Posix.IsOpen(a), Is.True, "the fd stays the caller's");
            Assert.Throws<ObjectDisposedException>(() => Listener.Bind(loop, Net.AnyLoopbackPort, null));
            Assert.Throws<ObjectDisposedException>(() => Listener.FromSocket(loop, a, ownsSocket: true, null));
            Assert.That(Posix.IsOpen(a), Is.True);
            Assert.Throws<ObjectDisposedException>(() => Connector.Connect(loop, Net.AnyLoopbackPort, _ => { }));
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }
}
