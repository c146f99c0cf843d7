namespace LinuxEvent;

/// <summary>Backends of the <see cref="LoopModel.Proactor"/> model.</summary>
public enum ProactorBackend
{
    /// <summary>Linux io_uring (the default).</summary>
    Uring,
    /// <summary>Deterministic completions scripted by tests, on a virtual clock; no real I/O.</summary>
    Fake,
}
