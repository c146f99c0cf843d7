namespace LinuxEvent.Tests;

/// <summary>
/// Watching the loop's own wake eventfd used to take over the loop's registration (EEXIST fell back to MOD), after which
/// Post no longer woke the loop: Watch refuses every fd the loop owns.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Reactors))]
public class ReactorOwnedFdTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void TheReactorRefusesToWatchItsOwnWakeEventfdAndKeepsWaking()
    {
        var (loop, owned) = LoopOwnedFdTests.CreateAndCollect(backend);
        using (loop)
        {
            var reactor = (ReactorLoop)loop;
            int eventfd = owned.Single(fd => LoopOwnedFdTests.Target(fd) == "anon_inode:[eventfd]");
            var ex = Assert.Throws<ArgumentException>(() => reactor.Watch(eventfd, WatchOptions.Read, _ => { }, null));
            Assert.That(ex!.ParamName, Is.EqualTo("fd"));
            Assert.That(reactor.WatcherCount, Is.Zero);
            bool posted = false;
            var t = new Thread(() => loop.Post(_ => posted = true));
            t.Start();
            loop.RunUntil(() => posted, TimeSpan.FromSeconds(5));
            t.Join();
        }
    }
}
