using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// Scripting file operations on the two fakes through their public controls only: the fake proactor shows them in
/// <see cref="FakeCompletions.Pending"/>, the fake reactor (which runs no worker thread) in
/// <see cref="FakeReadiness.PendingFileOperations"/>; each shows its kind, fd, offset, length and path, and the test
/// completes, fills or fails it. Settling is immediate; the await resumes on the next loop iteration.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class FakeFileScriptingTests(Backend backend) : FdCheckedTest
{
    private const int Fd = 42;     // a fake never touches the fd

    /// <summary>One pending file request, whichever fake shows it.</summary>
    private sealed record Pending(OperationKind Kind, int Fd, long Offset, long Length, string? Path, object Handle);

    private static List<Pending> PendingOf(Loop loop) => loop switch
    {
        ProactorLoop { Fake: { } f } => f.Pending.Select(o => new Pending(o.Kind, o.FileDescriptor, o.FileOffset, o.RequestedLength, o.Path, o)).ToList(),
        ReactorLoop { Fake: { } f } => f.PendingFileOperations.Select(o => new Pending(o.Kind, o.FileDescriptor, o.Offset, o.Length, o.Path, o)).ToList(),
        _ => throw new InvalidOperationException(),
    };

    private static void CompleteRead(Loop loop, Pending p, ReadOnlySpan<byte> data)
    {
        if (loop is ProactorLoop { Fake: { } f }) f.CompleteRead((Operation)p.Handle, data);
        else ((ReactorLoop)loop).Fake!.CompleteRead((FakeFileOperation)p.Handle, data);
    }

    private static void Complete(Loop loop, Pending p, int result)
    {
        if (loop is ProactorLoop { Fake: { } f }) f.Complete((Operation)p.Handle, result);
        else ((ReactorLoop)loop).Fake!.Complete((FakeFileOperation)p.Handle, result);
    }

    private static void Fail(Loop loop, Pending p, int errno)
    {
        if (loop is ProactorLoop { Fake: { } f }) f.Fail((Operation)p.Handle, errno);
        else ((ReactorLoop)loop).Fake!.Fail((FakeFileOperation)p.Handle, errno);
    }

    private static void CompleteStatx(Loop loop, Pending p, FileStatus s)
    {
        if (loop is ProactorLoop { Fake: { } f }) f.CompleteStatx((Operation)p.Handle, s);
        else ((ReactorLoop)loop).Fake!.CompleteStatx((FakeFileOperation)p.Handle, s);
    }

    private static byte[] Written(Loop loop, Pending p)
        => loop is ProactorLoop { Fake: { } f } ? f.GetWrittenData((Operation)p.Handle) : ((ReactorLoop)loop).Fake!.GetWrittenData((FakeFileOperation)p.Handle);

    [Test]
    public void EveryFileOperationShowsItsArgumentsAndSettlesOnTheNextIteration()
    {
        using var loop = backend.Create();
        var read = loop.ReadAtAsync(Fd, new byte[10], 4096).AsTask();
        var readv = loop.ReadAtAsync(Fd, new Memory<byte>[] { new byte[2], new byte[3] }, 7).AsTask();
        var write = loop.WriteAtAsync(Fd, new ReadOnlyMemory<byte>[] { "ab"u8.ToArray(), "cde"u8.ToArray() }, 9).AsTask();
        var fsync = loop.FsyncAsync(Fd).AsTask();
        var fdatasync = loop.FdatasyncAsync(Fd).AsTask();
        var fallocate = loop.FallocateAsync(Fd, 100, 200, FallocateMode.KeepSize).AsTask();
        var open = loop.OpenAsync("/data/x", FileOpenFlags.ReadOnly).AsTask();
        var statx = loop.StatxAsync(Fd).AsTask();
        var close = loop.CloseAsync(Fd + 1).AsTask();

        var p = PendingOf(loop);
        Assert.That(p.Select(x => (x.Kind, x.Fd, x.Offset, x.Length, x.Path)), Is.EqualTo(new (OperationKind, int, long, long, string?)[]
        {
            (OperationKind.Read, Fd, 4096, 10, null),
            (OperationKind.ReadV, Fd, 7, 5, null),
            (OperationKind.WriteV, Fd, 9, 5, null),
            (OperationKind.Fsync, Fd, -1, 0, null),
            (OperationKind.Fdatasync, Fd, -1, 0, null),
            (OperationKind.Fallocate, Fd, 100, 200, null),
            (OperationKind.OpenAt, -100, -1, 0, "/data/x"),
            (OperationKind.Statx, Fd, -1, 0, null),
            (OperationKind.Close, Fd + 1, -1, 0, null),
        }));
        Assert.That(Encoding.ASCII.GetString(Written(loop, p[2])), Is.EqualTo("abcde"));

        CompleteRead(loop, p[0], "0123456"u8);
        CompleteRead(loop, p[1], "vwxyz"u8);
        Complete(loop, p[2], 5);
        Complete(loop, p[3], 0);
        Complete(loop, p[4], 0);
        Complete(loop, p[5], 0);
        Complete(loop, p[6], 77);
        var status = new FileStatus { Size = 123, Type = FileType.RegularFile, BlockSize = 4096, ModificationTime = DateTimeOffset.UnixEpoch.AddSeconds(1.5) };
        CompleteStatx(loop, p[7], status);
        Fail(loop, p[8], Errno.EIO);
        Assert.That(PendingOf(loop), Is.Empty, "settled at once");
        Assert.That(read.IsCompleted, Is.False, "the await resumes on the next iteration, not inside the script call");

        loop.RunUntil(() => new Task[] { read, readv, write, fsync, fdatasync, fallocate, open, statx, close }.All(t => t.IsCompleted));
        Assert.That(read.Result, Is.EqualTo(7));
        Assert.That(readv.Result, Is.EqualTo(5));
        Assert.That(write.Result, Is.EqualTo(5));
        Assert.That(open.Result, Is.EqualTo(77));
        Assert.That(statx.Result, Is.EqualTo(status));
        Assert.That(fsync.IsCompletedSuccessfully && fdatasync.IsCompletedSuccessfully && fallocate.IsCompletedSuccessfully, Is.True);
        var ex = close.Exception!.InnerException as LinuxEventException;
        Assert.That(ex!.Message, Does.Contain($"close(fd={Fd + 1}) failed: EIO").And.Contain("Loop.CloseAsync"));
    }

    [Test]
    public void AFailureReadsLikeTheKernelsAndBadScriptsAreRefused()
    {
        using var loop = backend.Create();
        var read = loop.ReadAtAsync(Fd, new byte[4], 0).AsTask();
        var p = PendingOf(loop).Single();
        Assert.Throws<ArgumentException>(() => CompleteRead(loop, p, "too long"u8), "more than asked for");
        Assert.Throws<ArgumentOutOfRangeException>(() => Complete(loop, p, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fail(loop, p, 0));
        Fail(loop, p, Errno.EISDIR);
        Assert.Throws<InvalidOperationException>(() => Complete(loop, p, 1), "settled already");
        loop.RunUntil(() => read.IsCompleted);
        var ex = read.Exception!.InnerException as LinuxEventException;
        Assert.That(ex!.Call, Is.EqualTo($"pread(fd={Fd}, count=4, offset=0)"));
        Assert.That(ex.Message, Does.Contain("EISDIR").And.Contain("directory").And.Contain("Loop.ReadAtAsync"));
    }

    [Test]
    public void CancellingRemovesAPendingRequestAndAScriptedResultBeatsALateCancel()
    {
        using var loop = backend.Create();
        using var early = new CancellationTokenSource();
        using var late = new CancellationTokenSource();
        var cancelled = loop.ReadAtAsync(Fd, new byte[4], 0, early.Token).AsTask();
        var completed = loop.ReadAtAsync(Fd, new byte[4], 4, late.Token).AsTask();
        loop.Post(_ => early.Cancel());
        loop.RunOnce(TimeSpan.Zero);
        var p = PendingOf(loop);
        Assert.That(p.Select(x => x.Offset), Is.EqualTo(new[] { 4L }), "the cancelled request left the fake");
        CompleteRead(loop, p[0], "data"u8);
        loop.Post(_ => late.Cancel());                      // too late: the result is already there
        loop.RunUntil(() => cancelled.IsCompleted && completed.IsCompleted);
        Assert.That(cancelled.IsCanceled, Is.True);
        Assert.That(completed.Result, Is.EqualTo(4));
    }

    [Test]
    public void LoopDisposalFailsPendingFileRequests()
    {
        var loop = backend.Create();
        var read = loop.ReadAtAsync(Fd, new byte[4], 0).AsTask();
        var open = loop.OpenAsync("/x", FileOpenFlags.ReadOnly).AsTask();
        loop.Dispose();
        Assert.That(Task.WhenAll(read, open).ContinueWith(_ => { }).Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(read.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>());
        Assert.That(open.Exception!.InnerException, Is.InstanceOf<ObjectDisposedException>());
    }
}
