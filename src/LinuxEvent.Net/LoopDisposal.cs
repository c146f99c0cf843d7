namespace LinuxEvent.Net;

/// <summary>
/// What the components of this assembly share about their loop's disposal: the loop runs their
/// <see cref="LoopComponent.OnLoopDisposing"/> while it is disposed, and they report it the same way on both models.
/// </summary>
internal static class LoopDisposal
{
    /// <summary>The error of an await that was pending when its loop was disposed: it names the loop (the object
    /// that is gone), not the component, so the caller sees why a healthy stream or listener stopped.</summary>
    internal static ObjectDisposedException PendingCallFailed(Loop loop, string call)
        => new(loop.GetType().Name, $"{call}: the {loop.BackendName} {loop.Model} loop was disposed while the call was pending.");

    /// <summary>Refuses to build a component on a disposed loop: it could never do I/O, and an await on it would never
    /// settle (disposal has already run, or is about to run, the hooks that settle such awaits).</summary>
    internal static void ThrowIfDisposed(Loop loop, string call)
    {
        if (loop.IsDisposed)
            throw new ObjectDisposedException(loop.GetType().Name, $"{call}: the {loop.BackendName} {loop.Model} loop is disposed.");
    }

    /// <summary>Test seam: components registered with <paramref name="loop"/> (closed ones must not accumulate).</summary>
    internal static int RegisteredCount(Loop loop) => loop.ComponentCount;
}
