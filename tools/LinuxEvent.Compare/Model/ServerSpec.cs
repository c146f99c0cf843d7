namespace LinuxEvent.Compare;

/// <summary>A server under test: how to start it and whether it can be run here.</summary>
internal sealed class ServerSpec
{
    public required string Name { get; init; }          // option name: reactor, proactor, epoll, uring, sockets, ...
    public required string Display { get; init; }       // report label
    public required string Short { get; init; }         // terminal label, at most 19 characters
    public required string Executable { get; init; }
    public required string[] Arguments { get; init; }   // @PORT@ and @LIFETIME@ (seconds) are replaced
    public required string About { get; init; }         // one sentence: what it is and how it differs
    public bool Ours { get; init; }                     // our echo-server: prints mark lines on SIGUSR1
    public string? Missing { get; set; }                // why it cannot run (then it is skipped, never faked)
    public string? Failed { get; set; }                 // it failed at run time: later runs are skipped
}
