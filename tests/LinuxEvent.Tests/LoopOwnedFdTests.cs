namespace LinuxEvent.Tests;

/// <summary>
/// The fds a loop owns (its epoll or ring fd, its wake eventfd, the signalfd and pidfds of its adaptors) can never be
/// registered by user code: watching the wake eventfd used to take over the loop's own registration (EEXIST fell back
/// to MOD), after which Post no longer woke the loop.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class LoopOwnedFdTests(Backend backend) : FdCheckedTest
{
    internal static int[] OpenFds() => Directory.GetFiles("/proc/self/fd").Select(f => int.Parse(Path.GetFileName(f))).ToArray();

    internal static string Target(int fd)
    {
        try { return new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? ""; }
        catch (IOException) { return ""; }
    }

    /// <summary>The fds the loop opened while it was created (and while the callback set it up).</summary>
    internal static (Loop Loop, int[] Owned) CreateAndCollect(Backend backend, Action<Loop>? setup = null)
    {
        var before = OpenFds().ToHashSet();
        var loop = backend.Create();
        setup?.Invoke(loop);
        var owned = OpenFds().Where(fd => !before.Contains(fd) && Target(fd).StartsWith("anon_inode:", StringComparison.Ordinal)).ToArray();
        return (loop, owned);
    }

    [Test]
    public void EveryFdTheLoopOwnsIsRefusedByRegister()
    {
        var (loop, owned) = CreateAndCollect(backend, l =>
        {
            l.Signal(10, (_, _) => { });          // a signalfd joins the loop's own fds
        });
        using (loop)
        {
            Assert.That(owned, Is.Not.Empty, "the loop holds kernel objects of its own (epoll/ring, eventfd, signalfd)");
            foreach (int fd in owned)
            {
                var ex = Assert.Throws<ArgumentException>(() => loop.Register(fd), $"fd {fd} ({Target(fd)})");
                Assert.That(ex!.Message, Does.Contain("owned by the loop"));
            }
            // Nothing changed: the loop still wakes on Post.
            bool posted = false;
            var t = new Thread(() => loop.Post(_ => posted = true));
            t.Start();
            loop.RunUntil(() => posted);
            t.Join();
        }
    }
}
