namespace LinuxEvent;

/// <summary>
/// A reusable awaitable owned by one object (a stream's pending read, its pending drain, a listener's pending accept):
/// one use at a time, with a version token per use, continuations on the loop thread from its deferred phase, and no
/// allocation per use (see <see cref="LoopValueTaskSource{T}"/>). <see cref="Start"/> registers the token at once:
/// owners call it after arming their state, so a cancellation on the loop thread takes effect immediately.
/// </summary>
public sealed class LoopAwaitable<T> : LoopValueTaskSource<T>
{
    private readonly Action<LoopAwaitable<T>> _onCancel;

    /// <summary>Creates the awaitable.</summary>
    /// <param name="loop">The loop continuations resume on.</param>
    /// <param name="onCancel">Runs on the loop thread when the token of a pending use is cancelled; it must settle the
    /// use (normally with <see cref="LoopValueTaskSource{T}.SetCanceled"/>) after undoing whatever the owner armed.</param>
    public LoopAwaitable(Loop loop, Action<LoopAwaitable<T>> onCancel) : base(loop) => _onCancel = onCancel;

    /// <summary>Begins a use (retiring an unawaited previous one) and registers its token.</summary>
    public void Start(CancellationToken token)
    {
        BeginUse(token);
        ArmCancellation();
    }

    /// <summary>The current use as a ValueTask.</summary>
    public ValueTask<T> Task => new(this, Version);

    /// <summary>The current use as a non-generic ValueTask.</summary>
    public ValueTask VoidTask => new(this, Version);

    /// <inheritdoc />
    protected override void OnCancelRequested() => _onCancel(this);
}
