// pid-exit: child-process exits as loop events (Loop.WatchProcess), on both models.
//
//   dotnet run examples/pid-exit.cs [-- --model reactor|proactor]    (without --model: reactor, then proactor)
//
// Posix.Spawn starts a child with posix_spawnp (never fork in a .NET process). WatchProcess opens a pidfd for it:
// the loop is told when that one child ends, reaps it (waitid(P_PIDFD), never waitpid(-1), so other children are
// left alone) and reports how: exit code, or the signal that killed it. The demo runs `sh -c 'exit 3'` and a `sleep`
// that it kills with SIGTERM, and ends by itself; SIGINT/SIGTERM stop it early (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

LoopModel[] models;
switch (args)
{
    case []: models = [LoopModel.Reactor, LoopModel.Proactor]; break;
    case ["--model", "reactor"]: models = [LoopModel.Reactor]; break;
    case ["--model", "proactor"]: models = [LoopModel.Proactor]; break;
    default: Console.Error.WriteLine("usage: pid-exit [--model reactor|proactor]"); return 2;
}

int failures = 0;
foreach (var model in models)
{
    using var loop = Loop.Create(model);
    Console.WriteLine($"== {model} loop ({loop.BackendName})");
    bool interrupted = false;
    loop.Signal(2, (l, _) => { interrupted = true; l.Stop(); });
    loop.Signal(15, (l, _) => { interrupted = true; l.Stop(); });

    int pending = 2;
    int exiter = Posix.Spawn("sh", ["-c", "exit 3"]);
    Console.WriteLine($"spawned sh -c 'exit 3' as pid {exiter}");
    loop.WatchProcess(exiter, (l, exit) =>
    {
        Console.WriteLine($"pid {exit.Pid}: exited={exit.Exited} exit code={exit.ExitCode}  ({exit})");
        if (!exit.Exited || exit.ExitCode != 3) failures++;
        if (--pending == 0) l.Stop();
    });

    int sleeper = Posix.Spawn("sleep", ["30"]);
    Console.WriteLine($"spawned sleep 30 as pid {sleeper}; killing it with SIGTERM in 20 ms");
    var sleeperWatch = loop.WatchProcess(sleeper, (l, exit) =>
    {
        Console.WriteLine($"pid {exit.Pid}: signaled={exit.Signaled} signal={exit.Signal}  ({exit})");
        if (!exit.Signaled || exit.Signal != 15) failures++;
        if (--pending == 0) l.Stop();
    });
    loop.After(TimeSpan.FromMilliseconds(20), _ => Posix.Kill(sleeper, 15));

    loop.Run();
    if (interrupted)
    {
        // Leave no orphan behind: the sleeper may still run if the demo was interrupted in the first 20 ms.
        if (sleeperWatch.IsActive) { Posix.Kill(sleeper, 9); }
        break;
    }
}
return failures == 0 ? 0 : 1;
