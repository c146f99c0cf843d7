using System.Globalization;
using System.Net;
using System.Net.Sockets;
using LinuxEvent.Seam;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// Shared listeners with exclusive wakeup (<see cref="ListenerOptions.ExclusiveWakeup"/>, <see cref="WatchOptions.Exclusive"/>):
/// the registration carries EPOLLEXCLUSIVE (read back from the kernel's /proc fdinfo of the epoll instance), it cannot be
/// modified, and several loops on one listening socket accept every connection exactly once, with accept attempts that
/// find nothing (EAGAIN) near one per wakeup instead of one per loop.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.RealReactors))]
public class ExclusiveListenerTests(Backend backend) : FdCheckedTest
{
    private const uint EpollExclusive = 1u << 28;

    /// <summary>The event mask the kernel holds for <paramref name="fd"/> in any epoll instance of this process.</summary>
    private static uint? KernelEvents(int fd)
    {
        foreach (var entry in Directory.GetFiles("/proc/self/fd"))
        {
            string target;
            try { target = new FileInfo(entry).LinkTarget ?? ""; } catch (IOException) { continue; }
            if (target != "anon_inode:[eventpoll]") continue;
            string info;
            try { info = File.ReadAllText("/proc/self/fdinfo/" + Path.GetFileName(entry)); } catch (IOException) { continue; }
            foreach (var line in info.Split('\n'))
            {
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[0] == "tfd:" && parts[1] == fd.ToString(CultureInfo.InvariantCulture) && parts[2] == "events:")
                    return uint.Parse(parts[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
        return null;
    }

    [Test]
    public void AnExclusiveWatchIsAddedWithEpollExclusiveAndCannotBeModified()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            Assert.That(() => loop.Watch(a, WatchOptions.Read | WatchOptions.Exclusive | WatchOptions.OneShot, _ => { }, null),
                Throws.ArgumentException.With.Message.Contains("OneShot"));
            var w = loop.Watch(a, WatchOptions.Read | WatchOptions.Exclusive, _ => { }, null);
            Assert.That(KernelEvents(a) & EpollExclusive, Is.EqualTo(EpollExclusive), "EPOLLEXCLUSIVE at EPOLL_CTL_ADD");
            Assert.That(() => w.EnableWrite(), Throws.InvalidOperationException.With.Message.Contains("exclusive"));
            Assert.That(w.IsActive, Is.True, "a refused change changes nothing");
            w.DisableRead();                                  // no interest left: the registration is removed (DEL)
            Assert.That(KernelEvents(a), Is.Null);
            w.EnableRead();                                   // added anew (ADD), exclusive again
            Assert.That(KernelEvents(a) & EpollExclusive, Is.EqualTo(EpollExclusive));
            var plain = loop.Watch(a, WatchOptions.Read, _ => { }, null);   // replacing it: DEL then ADD, not MOD
            Assert.That(KernelEvents(a) & EpollExclusive, Is.Zero);
            plain.Cancel();
        }
        finally
        {
            Posix.Close(a);
            Posix.Close(b);
        }
    }

    /// <summary>The kernel's accept(2), counting what it returns.</summary>
    private sealed class CountingAccept(Syscalls inner) : Syscalls
    {
        public int Accepted, Empty;

        public override int Accept(int fd)
        {
            int r = inner.Accept(fd);
            if (r >= 0) Interlocked.Increment(ref Accepted);
            else if (r == -Errno.EAGAIN) Interlocked.Increment(ref Empty);
            return r;
        }
    }

    [Test]
    public void SeveralLoopsOnOneListeningSocketAcceptEachConnectionOnceWithoutWakingEveryLoop()
    {
        const int loopCount = 4, connections = 60;
        using var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen(128);
        listening.Blocking = false;
        var loops = new ReactorLoop[loopCount];
        var counters = new CountingAccept[loopCount];
        var threads = new Thread[loopCount];
        var accepted = new int[loopCount];
        var ready = new CountdownEvent(loopCount);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < loopCount; i++)
            {
                int index = i;
                var loop = loops[i] = (ReactorLoop)backend.Create();
                counters[i] = new CountingAccept(loop.ReactorDriver.Sys);
                loop.ReactorDriver.Sys = counters[i];
                threads[i] = new Thread(() =>
                {
                    int dup = LinuxEvent.Native.Libc.Fcntl(checked((int)listening.Handle), LinuxEvent.Native.Libc.F_DUPFD_CLOEXEC, 3);
                    using var listener = Listener.FromSocket(loop, dup, ownsSocket: true, (_, connection) =>
                    {
                        Interlocked.Increment(ref accepted[index]);
                        Posix.Close(connection.Fd);
                    }, new ListenerOptions { ExclusiveWakeup = true, ResolvePeerEndPoint = false });
                    ready.Signal();
                    loop.Run();
                }) { IsBackground = true, Name = "exclusive-listener-" + i };
                threads[i].Start();
            }
            Assert.That(ready.Wait(TimeSpan.FromSeconds(10)), Is.True);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            for (int c = 0; c < connections; c++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                client.Connect(listening.LocalEndPoint!);
                // One connection at a time: each is a wakeup of its own.
                while (accepted.Sum() <= c && DateTime.UtcNow < deadline) Thread.Yield();
            }
            Assert.That(accepted.Sum(), Is.EqualTo(connections), "every connection accepted exactly once");
            int empty = counters.Sum(x => x.Empty);
            TestContext.Progress.WriteLine($"exclusive listener: {empty} empty accepts for {connections} connections on {loopCount} loops");
            // Each wakeup ends with one EAGAIN (the winner accepts until the queue is empty). Woken all together, every
            // loop would add one of its own: up to loopCount per connection.
            Assert.That(empty, Is.LessThanOrEqualTo(connections + connections / 4),
                $"accept attempts that found nothing: {empty} for {connections} connections on {loopCount} loops (per loop accepted: {string.Join(",", accepted)})");
        }
        finally
        {
            foreach (var l in loops) l?.Stop();
            foreach (var t in threads) t?.Join(TimeSpan.FromSeconds(10));
            foreach (var l in loops) l?.Dispose();
            foreach (var c in clients) c.Dispose();
            ready.Dispose();
        }
    }
}
