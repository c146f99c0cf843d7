// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.
using LinuxEvent;

/// <summary>One client connection: its socket and its receive/reply buffers (pinned, so io_uring needs no pin handle).</summary>
internal sealed class RedisConnection(LoopFd io)
{
    public const int InitialBufferSize = 16 * 1024;
    public readonly LoopFd Io = io;      // registered once for the connection's life; owns the socket
    public int Fd => Io.Fd;
    public byte[] In = GC.AllocateUninitializedArray<byte>(InitialBufferSize, pinned: true);
    public byte[] Out = GC.AllocateUninitializedArray<byte>(InitialBufferSize, pinned: true);
    public int InStart, InEnd;      // unparsed bytes: In[InStart..InEnd)
    public int OutLength;           // replies waiting to be sent: Out[..OutLength)
    public bool CloseAfterReply;    // QUIT or a protocol error
    public Task Completion = Task.CompletedTask;

    /// <summary>Makes room for at least <paramref name="bytes"/> more reply bytes.</summary>
    public Span<byte> ReserveOut(int bytes)
    {
        if (Out.Length - OutLength < bytes)
        {
            var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(Out.Length * 2, OutLength + bytes), pinned: true);
            Out.AsSpan(0, OutLength).CopyTo(bigger);
            Out = bigger;
        }
        return Out.AsSpan(OutLength);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(ReserveOut(bytes.Length));
        OutLength += bytes.Length;
    }
}
