// post: handing work to the loop from other threads with Loop.Post, on both models.
//
//   dotnet run examples/post.cs [-- --model reactor|proactor]        (without --model: reactor, then proactor)
//
// "One loop, one thread": loop state is touched only on the loop thread, so it needs no locks. Other threads talk
// to the loop through Post, the thread-safe entry point: the action is queued and the loop is woken (eventfd), and
// the action runs on the loop thread. Here three worker threads count primes in their own ranges and post progress
// and results; the loop aggregates them in plain fields and stops when the last worker reports. The demo ends by
// itself; SIGINT/SIGTERM stop it early (exit 0).
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
    default: Console.Error.WriteLine("usage: post [--model reactor|proactor]"); return 2;
}

const int Workers = 3, RangeSize = 200_000;
foreach (var model in models)
{
    using var loop = Loop.Create(model);
    Console.WriteLine($"== {model} loop ({loop.BackendName}), loop thread {Environment.CurrentManagedThreadId}");
    loop.Signal(2, static (l, _) => l.Stop());
    loop.Signal(15, static (l, _) => l.Stop());

    // Loop-thread state: plain fields, no locks.
    int finished = 0, progressReports = 0;
    long totalPrimes = 0;

    var threads = new Thread[Workers];
    for (int w = 0; w < Workers; w++)
    {
        int worker = w;
        threads[w] = new Thread(() =>
        {
            int from = worker * RangeSize, to = from + RangeSize, primes = 0;
            for (int n = from; n < to; n++)
            {
                if (IsPrime(n)) primes++;
                if ((n - from) % (RangeSize / 4) == 0 && n > from)
                    loop.Post(_ => progressReports++);                  // runs later, on the loop thread
            }
            int thread = Environment.CurrentManagedThreadId;
            // The state-passing overload avoids a closure; here the state carries the result.
            loop.Post(static (l, state) =>
            {
                var (id, range, count, fromThread) = ((int, string, int, int))state!;
                Console.WriteLine($"worker {id} (thread {fromThread}) -> loop thread {Environment.CurrentManagedThreadId}: {count} primes in {range}");
            }, (worker, $"[{from}, {to})", primes, thread));
            loop.Post(l =>
            {
                totalPrimes += primes;
                if (++finished == Workers) l.Stop();
            });
        }) { IsBackground = true, Name = $"worker {w}" };
    }
    foreach (var t in threads) t.Start();
    loop.Run();
    Console.WriteLine($"all workers done: {totalPrimes} primes below {Workers * RangeSize}, {progressReports} progress posts");
    if (finished < Workers) break;              // stopped by a signal
    foreach (var t in threads) t.Join();
}
return 0;

static bool IsPrime(int n)
{
    if (n < 2) return false;
    for (int d = 2; (long)d * d <= n; d++) if (n % d == 0) return false;
    return true;
}
