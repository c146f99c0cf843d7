using LinuxEvent.Proactor;

namespace LinuxEvent.Tests;

/// <summary>
/// The CQ head is published as soon as a batch is reaped, so an exception escaping the dispatch of one completion
/// used to lose the rest of the batch: those operations never settled.
/// </summary>
public class UringDispatchIsolationTests : FdCheckedTest
{
    [Test]
    public void AThrowWhileDispatchingOneCompletionDoesNotLoseTheOthers()
    {
        ProactorLoop loop;
        try { loop = Loop.CreateProactor(); }
        catch (LinuxEventUnsupportedException ex) { Assert.Ignore("io_uring unavailable here: " + ex.Message); return; }
        using (loop)
        {
            var errors = new List<Exception>();
            loop.UnhandledException = (_, ex) => errors.Add(ex);
            var ops = Enumerable.Range(0, 4).Select(_ => loop.Nop()).ToArray();
            ulong poisoned = ProactorIoDriver.UserDataOf(ops[0]);
            var backend = (UringProactorBackend)loop.Backend;
            backend.DispatchHookForTesting = ud => { if (ud == poisoned) throw new InvalidOperationException("poisoned completion"); };
            loop.RunUntil(() => ops.Skip(1).All(o => o.IsSettled), TimeSpan.FromSeconds(5));
            Assert.That(ops.Skip(1).Select(o => o.State), Is.All.EqualTo(OperationState.Completed), "the rest of the batch settles");
            Assert.That(errors, Has.Count.EqualTo(1));
            Assert.That(errors[0].Message, Does.Contain("poisoned completion"));
            backend.DispatchHookForTesting = null;
        }
    }
}
