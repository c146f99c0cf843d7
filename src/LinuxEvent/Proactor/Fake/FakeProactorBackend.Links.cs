using LinuxEvent.Native;

namespace LinuxEvent.Proactor;

// The fake's linked timeouts and chains, kept to the kernel's rules: a linked timeout is a timer on the virtual clock
// that cancels its operation when it fires (the operation settles as TimedOut); a chain step waits for the step before
// it, and a step that ends the chain (ProactorIoDriver.EndsChain) settles every later step as Cancelled.
internal sealed partial class FakeProactorBackend
{
    private static readonly Action<Loop, Operation> s_linkTimeoutFired = static (loop, op) =>
    {
        if (op.State == OperationState.Pending && ((ProactorLoop)loop).ProactorDriver.Backend is FakeProactorBackend fake)
            fake.ResolveNow(op, -Errno.ECANCELED);       // from the timer phase: ordered among timers by deadline
    };

    /// <summary>Starts the operation's timeout on the virtual clock: one timer per operation, restarted on resubmission.</summary>
    private void ArmLinkTimer(Operation op)
    {
        var delay = TimeSpan.FromTicks(Math.Min(op.LinkTimeoutNs / 100, TimeSpan.MaxValue.Ticks));
        if (op.LinkTimer is null) op.LinkTimer = _loop.After(delay, op, s_linkTimeoutFired);
        else op.LinkTimer.Restart(delay);
    }

    /// <summary>The operation settled first: its timeout is cancelled, as the kernel cancels the LINK_TIMEOUT.</summary>
    private static void DisarmLinkTimer(Operation op)
    {
        if (op.LinkTimer is { IsActive: true } t) t.Cancel();
    }

    /// <summary>A chain step settled: the next step has started (it may now be scripted), or the chain ended and every
    /// later step settles as Cancelled, in order.</summary>
    private void EndOrContinueChain(Operation settled, Operation next)
    {
        if (next.State != OperationState.Pending) return;
        if (!ProactorIoDriver.EndsChain(settled))
        {
            if (next.Kind == OperationKind.Nop) _nops.Add(next);      // its turn: it completes at the next dispatch
            return;
        }
        Resolve(next, -Errno.ECANCELED);           // cascades to the steps after it
    }
}
