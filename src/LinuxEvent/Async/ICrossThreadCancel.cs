namespace LinuxEvent;

/// <summary>An awaitable whose cancellation was requested from another thread, queued intrusively on its loop
/// (<see cref="Loop.PostCancel"/>): the link lives in the awaitable, so queueing allocates nothing.</summary>
internal interface ICrossThreadCancel
{
    /// <summary>The next queued item (the loop's stack link).</summary>
    ICrossThreadCancel? NextCancel { get; set; }

    /// <summary>Runs the cancellation on the loop thread.</summary>
    void RunCancel();
}
