// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.

/// <summary>A stored value. Values are byte strings; INCR reads and writes them as decimal integers.</summary>
internal sealed class RedisEntry(byte[] key, byte[] value)
{
    public readonly byte[] Key = key;
    public byte[] Value = value;
    public long ExpiresAt;          // loop.NowNanoseconds deadline; 0 = persistent
    public int VolatileIndex = -1;  // position in RedisServer._volatile while ExpiresAt != 0
}
