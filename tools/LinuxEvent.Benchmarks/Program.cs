using System.Diagnostics;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace LinuxEvent.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--alloc-check") return AllocCheck.Run(args.Skip(1).ToArray());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}

/// <summary>
/// Exact steady-state allocation per operation, independent of BenchmarkDotNet's rounding: every benchmark method is
/// warmed up, then called repeatedly while GC.GetTotalAllocatedBytes(precise: true) (all threads) and
/// GC.GetAllocatedBytesForCurrentThread (the loop thread) are read around the calls.
/// Usage: <c>--alloc-check [substring-filter]</c>.
/// </summary>
internal static class AllocCheck
{
    public static int Run(string[] args)
    {
        string? filter = args.Length > 0 ? args[0] : null;
        Console.WriteLine($"{"benchmark",-72} {"ops",10} {"B/op all threads",17} {"B/op this thread",17}");
        foreach (var type in typeof(Program).Assembly.GetTypes().Where(t => t.GetCustomAttribute<ConfigAttribute>() is not null).OrderBy(t => t.Name))
        {
            var paramProp = type.GetProperties().FirstOrDefault(p => p.GetCustomAttribute<ParamsAttribute>() is not null);
            object?[] values = paramProp?.GetCustomAttribute<ParamsAttribute>()!.Values ?? [null];
            foreach (var value in values)
            {
                var methods = type.GetMethods()
                    .Select(m => (Method: m, Attr: m.GetCustomAttribute<BenchmarkAttribute>()))
                    .Where(x => x.Attr is not null)
                    .Where(x => filter is null || $"{type.Name}.{x.Method.Name}".Contains(filter, StringComparison.OrdinalIgnoreCase))
                    .ToList();
                if (methods.Count == 0) continue;
                var instance = Activator.CreateInstance(type)!;
                paramProp?.SetValue(instance, value);
                Invoke<GlobalSetupAttribute>(type, instance);
                foreach (var (method, attr) in methods)
                {
                    var call = MakeCall(method, instance);
                    int opsPerInvoke = attr!.OperationsPerInvoke;
                    // Warm up ~300 ms (tiering, pools, lazily grown arrays), then measure as many calls again.
                    var sw = Stopwatch.StartNew();
                    int calls = 0;
                    while (sw.ElapsedMilliseconds < 300 || calls < 50) { call(); calls++; }
                    long allBefore = GC.GetTotalAllocatedBytes(precise: true);
                    long threadBefore = GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < calls; i++) call();
                    long threadBytes = GC.GetAllocatedBytesForCurrentThread() - threadBefore;
                    long allBytes = GC.GetTotalAllocatedBytes(precise: true) - allBefore;
                    double ops = (double)calls * opsPerInvoke;
                    string name = $"{type.Name}.{method.Name}{(paramProp is null ? "" : $"({paramProp.Name}={value})")}";
                    Console.WriteLine($"{name,-72} {ops,10:0} {allBytes / ops,17:0.####} {threadBytes / ops,17:0.####}");
                    if (instance is AsyncPingPongBenchmarks a && method.Name != nameof(AsyncPingPongBenchmarks.Sockets))
                        Console.WriteLine($"{"  └ inside the steady-state loop (round trips 2..N, loop thread)",-72} {2 * (AsyncPingPongBenchmarks.RoundTrips - 1),10} {"",17} {a.LastLoopAllocatedBytes / (2.0 * (AsyncPingPongBenchmarks.RoundTrips - 1)),17:0.####}");
                }
                Invoke<GlobalCleanupAttribute>(type, instance);
            }
        }
        return 0;
    }

    private static void Invoke<TAttr>(Type type, object instance) where TAttr : Attribute
    {
        foreach (var m in type.GetMethods().Where(m => m.GetCustomAttribute<TAttr>() is not null)) m.Invoke(instance, null);
    }

    private static Action MakeCall(MethodInfo m, object instance)
    {
        if (m.ReturnType == typeof(void)) return m.CreateDelegate<Action>(instance);
        if (m.ReturnType == typeof(int)) { var f = m.CreateDelegate<Func<int>>(instance); return () => f(); }
        if (m.ReturnType == typeof(bool)) { var f = m.CreateDelegate<Func<bool>>(instance); return () => f(); }
        throw new NotSupportedException($"{m.Name} returns {m.ReturnType}");
    }
}
