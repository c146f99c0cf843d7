namespace LinuxEvent;

/// <summary>Backends of the <see cref="LoopModel.Reactor"/> model.</summary>
public enum ReactorBackend
{
    /// <summary>Linux epoll (the default).</summary>
    Epoll,
    /// <summary>Deterministic in-memory readiness with a virtual clock: tests inject readiness and advance time.</summary>
    Fake,
}
