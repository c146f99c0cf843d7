using System.Net;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// EMFILE on accept, through the reactor's syscall seam (<c>ReactorIoDriver.Sys</c>, whose accept4 the test replaces): reported once per backoff period, no spinning, accepting resumes. Epoll only: the seam is the
/// reactor's accept, and a fake reactor would need every re-arm injected by hand. The proactor's EMFILE is scripted on
/// the fake (MultishotListenerTests); real exhaustion is EmfileTests (run by hand).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.RealReactors))]
public class ListenerEmfileSeamTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ReactorAcceptEmfileIsReportedOncePerBackoffAndAcceptingResumes()
    {
        using var loop = backend.Create();
        var errors = new List<LinuxEventSocketException>();
        int accepted = 0, refusals = 0;
        using var listener = Listener.Bind(loop, Net.AnyLoopbackPort, (_, c) => { accepted++; Posix.Close(c.Fd); },
            new ListenerOptions { ResourceErrorBackoff = TimeSpan.FromMilliseconds(100) });
        listener.OnError = (_, e) => errors.Add(e);
        bool exhausted = true;
        // While "exhausted", accept4 fails with EMFILE (24) and the connection stays in the backlog, as in the kernel.
        int RefuseWithEmfile() { refusals++; return -24; }
        ((Reactor.ReactorIoDriver)loop.Driver).Sys = new AcceptSeam(fd => exhausted ? RefuseWithEmfile() : Posix.TryAccept(fd));
        int client = Posix.StartTcpConnect((IPEndPoint)listener.LocalEndPoint!, out _);
        try
        {
            // Three backoff periods of loop time: the listener must report once per period, not spin.
            var periods = 0;
            loop.After(TimeSpan.FromMilliseconds(350), _ => periods = 1);
            loop.RunUntil(() => periods == 1, TimeSpan.FromSeconds(10));
            Assert.That(errors, Is.Not.Empty);
            Assert.That(errors[0].ErrnoName, Is.EqualTo("EMFILE"));
            Assert.That(errors.Count, Is.InRange(1, 5), "one report per backoff period");
            Assert.That(refusals, Is.EqualTo(errors.Count), "one accept attempt per period: no spinning on EMFILE");
            Assert.That(listener.IsBackingOff, Is.True);
            exhausted = false;                          // fds are available again
            loop.RunUntil(() => accepted == 1, TimeSpan.FromSeconds(5));
            Assert.That(listener.IsBackingOff, Is.False);
        }
        finally { Posix.Close(client); }
    }

    /// <summary>The reactor's syscall seam with accept4 replaced.</summary>
    private sealed class AcceptSeam(Func<int, int> accept) : Seam.Syscalls
    {
        public override int Accept(int fd) => accept(fd);
    }
}
