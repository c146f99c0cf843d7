namespace LinuxEvent;

/// <summary>Options for <see cref="Loop.CreateReactor(ReactorOptions?)"/>.</summary>
public sealed class ReactorOptions
{
    /// <summary>The readiness backend. Default <see cref="ReactorBackend.Epoll"/>.</summary>
    public ReactorBackend Backend { get; init; } = ReactorBackend.Epoll;

    /// <summary>How many readiness events one kernel wait may return (default 256, range 1..65536).</summary>
    public int MaxEventsPerWait { get; init; } = 256;

    /// <summary>
    /// <see cref="ReactorBackend.Fake"/> only: the virtual clock. Loops given the same <see cref="LinuxEvent.FakeClock"/>
    /// share one time (a simulated server and its clients). Null (the default): the loop gets its own clock at 1 s.
    /// Ignored by epoll.
    /// </summary>
    public FakeClock? FakeClock { get; init; }
}
