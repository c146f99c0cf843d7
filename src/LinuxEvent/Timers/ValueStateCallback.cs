namespace LinuxEvent;

/// <summary>
/// A state-passing timer callback whose state is a value type. Reference-type states are stored as they are and the
/// callback is invoked through the shared <c>Action&lt;Loop, object?&gt;</c> shape; a value type cannot be, so it is
/// kept here, with its callback, in one allocation made when the timer is created (never per firing or restart).
/// </summary>
internal sealed class ValueStateCallback<TState>(Action<Loop, TState> callback, TState state)
{
    /// <summary>The callback stored in the timer: unwraps the holder and calls the user's callback with its state.</summary>
    public static readonly Action<Loop, object?> Invoke = static (loop, holder) =>
    {
        var h = (ValueStateCallback<TState>)holder!;
        h._callback(loop, h._state);
    };

    private readonly Action<Loop, TState> _callback = callback;
    private readonly TState _state = state;
}
