using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// Closing a stream right after it queued a receive: on io_uring the request may still sit in the submission queue,
/// and the kernel resolves the fd number only when it consumes it. A socket created next takes the same number; the
/// queued receive must not read that socket's bytes. Run on both real backends (the reactor shows the same contract).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class ReusedFdNumberTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AStreamClosedRightAfterItsReadStartedNeverReadsFromTheFileThatReusesItsNumber()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        int c = -1, d = -1;
        int readResult = -1;
        string leftForTheNewSocket = "";
        try
        {
            loop.Run(async () =>
            {
                var stream = new LoopStream(loop, a);                  // owns a
                var read = stream.ReadAsync(new byte[16]).AsTask();    // queues a receive (io_uring: not yet submitted)
                stream.Close();                                        // closes a now
                (c, d) = Posix.SocketPair();
                Posix.Write(d, "new"u8);
                readResult = await read;
                await loop.DelayAsync(TimeSpan.FromMilliseconds(20));   // let a stray receive (the bug) run and settle
                var rest = new byte[16];
                int m = Posix.TryRead(c, rest);
                leftForTheNewSocket = m > 0 ? Encoding.ASCII.GetString(rest, 0, m) : "";
            });
            Assume.That(c, Is.EqualTo(a), "the new socket reused the closed number");
            Assert.That(readResult, Is.Zero, "a read pending at a local close completes with 0");
            Assert.That(leftForTheNewSocket, Is.EqualTo("new"), "the new socket's bytes were not taken by the old stream");
        }
        finally
        {
            Posix.Close(b);
            if (c >= 0) Posix.Close(c);
            if (d >= 0) Posix.Close(d);
        }
    }
}
