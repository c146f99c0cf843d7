using System.Net;
using System.Net.Sockets;
using System.Text;
namespace LinuxEvent.Tests;

// ProactorContractTests, continued: splice, resubmitting settled operations, and refusing bad arguments.
public partial class ProactorContractTests
{
    [Test]
    public void SpliceMovesBytesFromASocketIntoAPipe()
    {
        var (a, b) = Posix.SocketPair();
        var (r, w) = Posix.Pipe();
        try
        {
            Posix.Write(b, A("spliced"));
            var op = _loop.Splice(a, w, 64);
            if (Fake) F.Complete(op, 7);
            RunUntilSettled(op);
            Assert.That(op.Result, Is.EqualTo(7));
            if (!Fake)
            {
                var buf = new byte[16];
                Assert.That(Encoding.ASCII.GetString(buf, 0, Posix.TryRead(r, buf)), Is.EqualTo("spliced"));
            }
        }
        finally { Posix.Close(a); Posix.Close(b); Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void ResubmitReusesASettledOperationAndRefusesAPendingOne()
    {
        int calls = 0;
        var op = _loop.Nop(_ => calls++);
        Assert.Throws<InvalidOperationException>(() => _loop.Resubmit(op));
        RunUntilSettled(op);
        _loop.Resubmit(op);
        Assert.That(op.State, Is.EqualTo(OperationState.Pending));
        RunUntilSettled(op);
        _loop.RunOnce(TimeSpan.Zero);
        Assert.That(calls, Is.EqualTo(2));
    }

    [Test]
    public void ResubmitWithAMemorySliceServesSendsToo()
    {
        var (a, b) = Posix.SocketPair();
        try
        {
            var data = new byte[] { 1, 2, 3, 4, 5, 6 };
            var op = _loop.Send(a, data.AsMemory(0, 2));
            if (Fake) F.Complete(op, 2);
            RunUntilSettled(op);
            _loop.Resubmit(op, data.AsMemory(2));         // Memory<byte>, not ReadOnlyMemory<byte>
            if (Fake) F.Complete(op, 4);
            RunUntilSettled(op);
            Assert.That((op.State, op.Result), Is.EqualTo((OperationState.Completed, 4)));
            if (!Fake)
            {
                var got = new byte[8];
                Assert.That(Posix.TryRead(b, got), Is.EqualTo(6));
                Assert.That(got[..6], Is.EqualTo(data));
            }
            var nop = _loop.Nop();
            RunUntilSettled(nop);
            Assert.Throws<InvalidOperationException>(() => _loop.Resubmit(nop, new byte[1].AsMemory()));
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    // Regression (code review): a Resubmit whose submission threw left the operation Pending for good.
    [Test]
    public void AResubmitThatThrowsLeavesTheOperationSettled()
    {
        var op = _loop.Nop();
        RunUntilSettled(op);
        _loop.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _loop.Resubmit(op));
        Assert.That(op.State, Is.EqualTo(OperationState.Completed), "still the settled result, not a stuck Pending");
        Assert.That(op.Cancel(), Is.False);
    }

    [Test]
    public void BadArgumentsThrowBeforeAnythingIsSubmitted()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _loop.Read(-1, new byte[1], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _loop.Read(0, new byte[1], -5));
        Assert.Throws<ArgumentOutOfRangeException>(() => _loop.Timeout(TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _loop.CreateBufferPool(3, 16));
        Assert.Throws<ArgumentNullException>(() => _loop.Connect(0, null!));
        Assert.That(_loop.LiveOperationCount, Is.Zero);
    }
}
