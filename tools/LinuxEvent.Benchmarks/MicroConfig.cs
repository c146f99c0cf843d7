using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;

namespace LinuxEvent.Benchmarks;

/// <summary>
/// The configuration every class here uses: a short throughput job (1 launch, 3 warmup and 8 measured iterations),
/// the memory diagnoser (allocated bytes per operation, all threads), and per-operation numbers
/// (benchmarks that batch work set OperationsPerInvoke, so Mean and Allocated are per operation).
/// </summary>
public sealed class MicroConfig : ManualConfig
{
    public MicroConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Throughput)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(8)
            .WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median);
        // Classes that compare a zero-allocation path with the plain API put each pair in a category with its own baseline.
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
    }
}
