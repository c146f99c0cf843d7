namespace LinuxEvent;

/// <summary>One delivery of a subscribed signal: its number and how many arrivals were coalesced into it.</summary>
/// <param name="Number">The signal number (e.g. 10 for SIGUSR1 on x86-64/arm64).</param>
/// <param name="Count">Arrivals since the previous delivery (at least 1). The kernel itself merges a standard
/// signal that is already pending, so this counts what reached the process, not how many times it was sent.</param>
public readonly record struct SignalEvent(int Number, int Count);
