// signals: Unix signals as loop events (Loop.Signal), on both models.
//
//   dotnet run examples/signals.cs [-- --model reactor|proactor]     (without --model: reactor, then proactor)
//
// The demo sends itself SIGUSR1 three times in a row and SIGHUP once, then SIGUSR2 to finish. Callbacks run on the
// loop thread, never inside a signal handler, so they may do anything. Arrivals of one signal that the loop has not
// dispatched yet are coalesced into one callback whose SignalEvent.Count says how many arrived (the kernel itself
// also merges a standard signal that is already pending). While a signal is subscribed its default action (e.g.
// terminating the process on SIGHUP/SIGTERM) does not happen; disposing the loop (or cancelling the last
// subscription, SignalSubscription.Cancel) restores it.
// SIGINT/SIGTERM stop the demo early (exit 0), which is how every example shuts down.
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

const int SIGHUP = 1, SIGINT = 2, SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15;

LoopModel[] models;
switch (args)
{
    case []: models = [LoopModel.Reactor, LoopModel.Proactor]; break;
    case ["--model", "reactor"]: models = [LoopModel.Reactor]; break;
    case ["--model", "proactor"]: models = [LoopModel.Proactor]; break;
    default: Console.Error.WriteLine("usage: signals [--model reactor|proactor]"); return 2;
}

int self = Posix.GetProcessId();
foreach (var model in models)
{
    using var loop = Loop.Create(model);
    Console.WriteLine($"== {model} loop ({loop.BackendName}), pid {self}");
    bool interrupted = false;
    loop.Signal(SIGINT, (l, _) => { interrupted = true; l.Stop(); });
    loop.Signal(SIGTERM, (l, _) => { interrupted = true; l.Stop(); });

    int usr1 = 0;
    loop.Signal(SIGUSR1, (_, e) =>
    {
        usr1 += e.Count;
        Console.WriteLine($"SIGUSR1 x{e.Count} (total {usr1})");
    });
    loop.Signal(SIGHUP, (_, e) => Console.WriteLine($"SIGHUP x{e.Count}: a daemon would reload its configuration here"));
    loop.Signal(SIGUSR2, (l, _) =>
    {
        Console.WriteLine("SIGUSR2: done");
        l.Stop();
    });

    // Send the signals from a timer so the loop is already waiting when they arrive.
    loop.After(TimeSpan.FromMilliseconds(10), _ =>
    {
        for (int i = 0; i < 3; i++) Posix.Kill(self, SIGUSR1);
        Posix.Kill(self, SIGHUP);
    });
    loop.After(TimeSpan.FromMilliseconds(60), _ => Posix.Kill(self, SIGUSR2));
    var watchdog = loop.After(TimeSpan.FromSeconds(5), l =>
    {
        Console.Error.WriteLine("signals: SIGUSR2 never arrived");
        Environment.ExitCode = 1;
        l.Stop();
    });
    loop.Run();          // Dispose (end of this iteration) cancels the remaining subscriptions
    watchdog.Cancel();
    if (interrupted) break;
}
return Environment.ExitCode;
