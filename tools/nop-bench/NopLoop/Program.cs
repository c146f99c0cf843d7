// nop-loop: the proactor's cheapest round trip. BATCH Operation.Nop()s stay in flight; each completion callback
// counts and resubmits its operation (ProactorLoop.Resubmit: allocation-free), so every loop iteration is one
// io_uring_enter (submit the re-armed nops + wait) followed by dispatch -- what tools/nop-bench/nop_loop.c does with
// liburing. Timers (two per run) start and stop the measured window. Prints one key=value line like nop_loop.
//
//   nop-loop [-b BATCH=1] [-t SECS=3] [-w WARMUP_SECS=1]
using System.Diagnostics;
using System.Globalization;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

int batch = 1;
double secs = 3, warmup = 1;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "-b": batch = int.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "-t": secs = double.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "-w": warmup = double.Parse(Value(), CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine("usage: nop-loop [-b BATCH] [-t SECS] [-w WARMUP]");
            return 2;
    }
}
if (batch is < 1 or > 1024) { Console.Error.WriteLine("nop-loop: batch must be 1..1024"); return 2; }

using var loop = Loop.CreateProactor();
var state = new State { Loop = loop };
Action<Operation> onDone = static op =>
{
    var s = (State)op.Data!;
    if (op.State != OperationState.Completed) throw new InvalidOperationException($"nop failed: {op.Error}");
    s.Done++;
    if (!s.Stopping) s.Loop.Resubmit(op);
};
for (int i = 0; i < batch; i++)
{
    var op = loop.Nop(onDone);
    op.Data = state;             // callbacks never run inline from a submit
}
loop.After(TimeSpan.FromSeconds(warmup), state, static (l, s) =>
{
    s.Base = s.Done;
    s.Alloc0 = GC.GetAllocatedBytesForCurrentThread();
    s.Gen0 = GC.CollectionCount(0);
    s.Cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    s.T0 = Stopwatch.GetTimestamp();
});
loop.After(TimeSpan.FromSeconds(warmup + secs), state, static (l, s) =>
{
    s.T1 = Stopwatch.GetTimestamp();
    s.Cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
    s.End = s.Done;
    s.Alloc1 = GC.GetAllocatedBytesForCurrentThread();
    s.Gen1 = GC.CollectionCount(0);
    s.Stopping = true;
    l.Stop();
});
loop.Run();
double el = Stopwatch.GetElapsedTime(state.T0, state.T1).TotalSeconds;
long n = state.End - state.Base;
double cpu = (state.Cpu1 - state.Cpu0).TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"impl=csharp backend={loop.BackendName} batch={batch} nops_per_s={n / el:F0} ns_per_nop={el * 1e9 / n:F1} cpu_ns_per_nop={cpu * 1e9 / n:F1} " +
    $"alloc_bytes={state.Alloc1 - state.Alloc0} gen0={state.Gen1 - state.Gen0} secs={el:F2}"));
return 0;

internal sealed class State
{
    public required ProactorLoop Loop;
    public long Done, Base, End, Alloc0, Alloc1;
    public int Gen0, Gen1;
    public bool Stopping;
    public long T0, T1;
    public TimeSpan Cpu0, Cpu1;
}
