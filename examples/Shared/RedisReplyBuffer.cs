// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.

/// <summary>Replies being assembled: one buffer for the whole server (a batch is written out before the next begins).</summary>
internal sealed class RedisReplyBuffer(int size)
{
    public byte[] Bytes = new byte[size];
    public int Length;

    public ReadOnlySpan<byte> Span => Bytes.AsSpan(0, Length);

    public Span<byte> Reserve(int bytes)
    {
        if (Bytes.Length - Length < bytes) Array.Resize(ref Bytes, Math.Max(Bytes.Length * 2, Length + bytes));
        return Bytes.AsSpan(Length);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        Length += bytes.Length;
    }
}
