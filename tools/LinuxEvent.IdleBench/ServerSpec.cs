namespace LinuxEvent.IdleBench;

/// <summary>One server to measure: how to start it and what its clients say.</summary>
internal sealed record ServerSpec(string Name, string? Model, string Executable, string[] Arguments, Protocol Protocol)
{
    /// <summary>"mini-redis (reactor)", or the name alone for a server without models.</summary>
    public string Display => Model is null ? Name : $"{Name} ({Model})";
}
