// Shared by every test project (compiled into each): the backend matrix every parametrised fixture runs on.
namespace LinuxEvent.Testing;

/// <summary>
/// One backend a fixture runs on. Its <see cref="Name"/> is what the fixture's name shows, e.g.
/// <c>AsyncContractTests(ProactorUring)</c>, so the console and the TRX say which backend ran.
/// </summary>
public sealed class Backend(string name, LoopModel model, string backendName, bool isFake, Func<Loop> create)
{
    public string Name => name;

    public LoopModel Model => model;

    /// <summary>What <see cref="Loop.BackendName"/> reports for a loop of this backend.</summary>
    public string BackendName => backendName;

    /// <summary>A scripted backend on a virtual clock: nothing reaches it unless the test injects it.</summary>
    public bool IsFake => isFake;

    /// <summary>Creates a loop of this backend. A real backend the kernel refuses (io_uring disabled by sysctl or
    /// seccomp) makes the test inconclusive rather than failed.</summary>
    public Loop Create()
    {
        try { return create(); }
        catch (LinuxEventUnsupportedException ex) when (!isFake)
        {
            Assert.Ignore($"{name} unavailable here: {ex.Message}");
            throw;
        }
    }

    public override string ToString() => name;
}

/// <summary>
/// The backend matrix. Every parametrised fixture names one of these sources:
/// <c>[TestFixtureSource(typeof(Backends), nameof(Backends.All))]</c>. Each source is derived from the master list
/// <see cref="All"/>, so adding a backend is one line there. A fixture that does not apply to a backend is fed a
/// source without it, instead of skipping its tests one by one.
/// </summary>
public static class Backends
{
    /// <summary>The master list: every backend of every model. Add a backend here and nowhere else.</summary>
    public static readonly Backend[] All =
    [
        new("ReactorEpoll", LoopModel.Reactor, "epoll", isFake: false, () => Loop.CreateReactor()),
        new("ReactorFake", LoopModel.Reactor, "fake", isFake: true, () => Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend.Fake })),
        new("ProactorUring", LoopModel.Proactor, "uring", isFake: false, () => Loop.CreateProactor()),
        new("ProactorFake", LoopModel.Proactor, "fake", isFake: true, () => Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend.Fake })),
    ];

    /// <summary>Readiness-based backends (<see cref="ReactorLoop"/>).</summary>
    public static readonly Backend[] Reactors = Where(b => b.Model == LoopModel.Reactor);

    /// <summary>Completion-based backends (<see cref="ProactorLoop"/>).</summary>
    public static readonly Backend[] Proactors = Where(b => b.Model == LoopModel.Proactor);

    /// <summary>Backends that move real bytes through the kernel: tests with real sockets, pipes, traffic, wall time.</summary>
    public static readonly Backend[] Real = Where(b => !b.IsFake);

    /// <summary>Scripted backends on a virtual clock: tests that need exact time or outcomes the kernel cannot force.</summary>
    public static readonly Backend[] Fakes = Where(b => b.IsFake);

    /// <summary>Kernel readiness on real fds (epoll semantics: level/edge, one-shot, EPOLLERR/HUP).</summary>
    public static readonly Backend[] RealReactors = Where(b => b.Model == LoopModel.Reactor && !b.IsFake);

    /// <summary>Scripted readiness: <see cref="FakeReadiness"/> (inject, interest, explicit edges).</summary>
    public static readonly Backend[] FakeReactors = Where(b => b.Model == LoopModel.Reactor && b.IsFake);

    /// <summary>Kernel completions (io_uring).</summary>
    public static readonly Backend[] RealProactors = Where(b => b.Model == LoopModel.Proactor && !b.IsFake);

    /// <summary>Scripted completions: <see cref="FakeCompletions"/> (pending operations, complete, fail, deliver).</summary>
    public static readonly Backend[] FakeProactors = Where(b => b.Model == LoopModel.Proactor && b.IsFake);

    /// <summary>The models of the master list, for APIs that take a model rather than a backend (LoopGroup).</summary>
    public static readonly LoopModel[] Models = All.Select(b => b.Model).Distinct().ToArray();

    private static Backend[] Where(Func<Backend, bool> predicate) => All.Where(predicate).ToArray();
}
