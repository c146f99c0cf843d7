// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.

/// <summary>The outcome of parsing one command from the receive buffer.</summary>
internal enum RedisParseStatus { Complete, Incomplete, Error }
