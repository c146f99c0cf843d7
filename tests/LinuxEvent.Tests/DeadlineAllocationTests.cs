namespace LinuxEvent.Tests;

/// <summary>
/// A deadline costs no allocation per call in steady state on the real backends: the reactor restarts the pooled
/// awaitable's own loop timer, the proactor writes a LINK_TIMEOUT SQE whose timespec lives in the operation's slot.
/// Each receive is started before its bytes arrive, so the deadline is armed and then disarmed on every call.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class DeadlineAllocationTests(Backend backend) : FdCheckedTest
{
    private const int Warmup = 300, Measured = 2000;

    [Test]
    public void AReceiveWithADeadlineThatDoesNotExpireAllocatesNothing()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            long allocated = -1;
            var timeout = TimeSpan.FromSeconds(30);
            loop.Run(async () =>
            {
                var buf = new byte[16];
                var one = new byte[] { 1 };
                long before = 0;
                for (int i = 0; i < Warmup + Measured; i++)
                {
                    if (i == Warmup) before = GC.GetAllocatedBytesForCurrentThread();
                    var receive = loop.ReceiveAsync(a, buf, timeout);
                    Posix.Write(b, one);
                    if (await receive != 1) throw new InvalidOperationException("short receive");
                    var send = loop.SendAsync(a, one, timeout);
                    if (await send != 1) throw new InvalidOperationException("short send");
                    Posix.Read(b, buf);
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            Assert.That(allocated, Is.Zero, $"{allocated} bytes over {Measured} receive+send pairs with deadlines");
            Assert.That(loop.PendingTimerCount, Is.Zero);
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }
}
