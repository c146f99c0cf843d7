namespace LinuxEvent.Compare;

/// <summary>A load generator: both take the same options and print the same key=value line.</summary>
internal sealed class LoadSpec
{
    public required string Name { get; init; }          // c (tools/baselines/loadgen.c) | dotnet (tools/LinuxEvent.Load)
    public required string Display { get; init; }
    public required string Executable { get; init; }
}
