// proactor-timeout: io_uring timeouts as operations, and a receive with a deadline.
//
//   dotnet run examples/proactor-timeout.cs
//
// On the proactor everything is an operation that settles exactly once: Completed, Failed or Cancelled.
// ProactorLoop.Timeout completes after a delay — an expired timeout is success (result 0), not the kernel's -ETIME —
// and timeouts with equal deadlines complete in submission order. Operation.Cancel returns true the first time
// (the callback still runs once, as Cancelled) and false once settled. Part two races a Receive against a
// Timeout: whichever settles first cancels the other. The demo ends by itself in ~150 ms; SIGINT/SIGTERM stop it
// early (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

using var loop = Loop.CreateProactor();
Console.WriteLine($"proactor backend: {loop.BackendName}");
loop.Signal(2, static (l, _) => l.Stop());
loop.Signal(15, static (l, _) => l.Stop());
long start = Loop.MonotonicNanoseconds();      // completion callbacks print the real time they ran at
string Elapsed() => $"{(Loop.MonotonicNanoseconds() - start) / 1e6,6:F1} ms";
int failures = 0;

// Part one: three timeouts submitted out of order complete in deadline order; a fourth is cancelled.
void Report(Operation op, string name) => Console.WriteLine($"{Elapsed()}  {name}: {op.State}, result {op.Result}");
loop.Timeout(TimeSpan.FromMilliseconds(30), op => Report(op, "Timeout(30 ms)"));
loop.Timeout(TimeSpan.FromMilliseconds(10), op => Report(op, "Timeout(10 ms)"));
loop.Timeout(TimeSpan.FromMilliseconds(20), op => Report(op, "Timeout(20 ms) #1"));
loop.Timeout(TimeSpan.FromMilliseconds(20), op => Report(op, "Timeout(20 ms) #2 (same deadline, submitted later)"));
var doomed = loop.Timeout(TimeSpan.FromMilliseconds(25), op =>
{
    Report(op, "Timeout(25 ms), cancelled at once");
    if (op.State != OperationState.Cancelled) failures++;
});
Console.WriteLine($"           Cancel() -> {doomed.Cancel()}");

// Part two: a receive with a deadline, on a socket pair. Round 1: nothing arrives, the deadline cancels the receive.
// Round 2: data arrives after 10 ms, before the 40 ms deadline, and the receive cancels the deadline instead.
var (a, b) = Posix.SocketPair();
var buffer = new byte[64];
loop.Timeout(TimeSpan.FromMilliseconds(40), _ => ReceiveWithDeadline(round: 1, TimeSpan.FromMilliseconds(40), sendAfter: null));

void ReceiveWithDeadline(int round, TimeSpan deadline, TimeSpan? sendAfter)
{
    Operation? timeout = null;
    var receive = loop.Receive(a, buffer, op =>
    {
        if (op.State == OperationState.Completed)
            Console.WriteLine($"{Elapsed()}  round {round}: received \"{System.Text.Encoding.ASCII.GetString(buffer, 0, op.Result)}\"; cancel the deadline -> {timeout!.Cancel()}");
        else
            Console.WriteLine($"{Elapsed()}  round {round}: receive settled {op.State}");
        if (round == 1) ReceiveWithDeadline(round: 2, TimeSpan.FromMilliseconds(40), sendAfter: TimeSpan.FromMilliseconds(10));
    });
    timeout = loop.Timeout(deadline, op =>
    {
        if (op.State == OperationState.Completed)
        {
            Console.WriteLine($"{Elapsed()}  round {round}: deadline passed; cancel the receive -> {receive.Cancel()}");
            if (round == 2) failures++;
        }
        else
        {
            Console.WriteLine($"{Elapsed()}  round {round}: deadline settled {op.State}");
            if (round == 2) loop.Stop();
        }
    });
    if (sendAfter is { } delay) loop.After(delay, _ => Posix.Write(b, "hello before the deadline"u8));
}

loop.Run();
Posix.Close(a);
Posix.Close(b);
return failures == 0 ? 0 : 1;
