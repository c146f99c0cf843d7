// timers: one-shot, absolute and periodic timers, cancellation, equal-deadline ordering and DelayAsync, on both models.
//
//   dotnet run examples/timers.cs [-- --model reactor|proactor]      (without --model: reactor, then proactor)
//
// Timers belong to the loop, not to a backend: the same calls work on the reactor (epoll) and the proactor
// (io_uring). Deadlines use CLOCK_MONOTONIC (loop.NowNanoseconds, read once per iteration). Timers with equal
// deadlines fire in the order they were scheduled. The demo ends by itself after ~120 ms per model; SIGINT/SIGTERM
// stop it early (exit 0).
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
    default: Console.Error.WriteLine("usage: timers [--model reactor|proactor]"); return 2;
}

foreach (var model in models)
{
    using var loop = Loop.Create(model);
    Console.WriteLine($"== {model} loop ({loop.BackendName})");
    loop.Signal(2, static (l, _) => l.Stop());      // SIGINT
    loop.Signal(15, static (l, _) => l.Stop());     // SIGTERM
    long start = loop.NowNanoseconds;
    string Elapsed() => $"{(loop.NowNanoseconds - start) / 1e6,6:F1} ms";

    // One-shot timers, relative and absolute. Both "10 ms" timers share a deadline: they fire in scheduling order.
    loop.After(TimeSpan.FromMilliseconds(10), _ => Console.WriteLine($"{Elapsed()}  After(10 ms) #1 (scheduled first)"));
    loop.After(TimeSpan.FromMilliseconds(10), _ => Console.WriteLine($"{Elapsed()}  After(10 ms) #2 (same deadline, scheduled second)"));
    loop.At(start + 35_000_000, _ => Console.WriteLine($"{Elapsed()}  At(start + 35 ms)"));

    // A cancelled timer never runs; Cancel returns true only the first time.
    var never = loop.After(TimeSpan.FromMilliseconds(20), _ => Console.WriteLine("this never prints"));
    Console.WriteLine($"           Cancel() -> {never.Cancel()}, again -> {never.Cancel()}");

    // State-passing overload: the callback is static and gets its state as an argument (no closure allocation).
    var counter = new int[1];
    loop.After(TimeSpan.FromMilliseconds(5), counter, static (_, c) => c[0]++);

    // A periodic timer: drift-free (each deadline = previous + interval); cancels itself after 4 ticks.
    int ticks = 0;
    TimerHandle? every = null;
    every = loop.Every(TimeSpan.FromMilliseconds(25), l =>
    {
        ticks++;
        Console.WriteLine($"{Elapsed()}  Every(25 ms) tick {ticks}");
        if (ticks == 4)
        {
            every!.Cancel();
            l.Stop();
        }
    });
    loop.Run();      // until Stop()

    // The same thing in async style: DelayAsync completes on the loop's clock; code after each await runs on the loop.
    loop.Run(async () =>
    {
        long t0 = loop.NowNanoseconds;
        await loop.DelayAsync(TimeSpan.FromMilliseconds(15));
        await loop.DelayAsync(TimeSpan.FromMilliseconds(5));
        Console.WriteLine($"{Elapsed()}  DelayAsync(15 ms) + DelayAsync(5 ms) took {(loop.NowNanoseconds - t0) / 1e6:F1} ms");
    });
    Console.WriteLine($"           state-passing timer ran {counter[0]} time(s); pending timers: {loop.PendingTimerCount}");
}
return 0;
