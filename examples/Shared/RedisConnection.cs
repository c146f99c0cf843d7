// Part of mini-redis, shared by examples/mini-redis.cs (`#:include`) and the simulation's redis scenario
// (tools/LinuxEvent.Simulate), which runs this very code under seeded faults and checks every reply against a model.
using LinuxEvent.Net;

/// <summary>
/// One client connection: its stream, and the server's reply buffer that its commands write into. An idle connection
/// costs this object and its <see cref="LoopStream"/>: no receive or reply buffer of its own (a partial command is all
/// its stream keeps between reads).
/// </summary>
internal sealed class RedisConnection(LoopStream stream, RedisReplyBuffer replies)
{
    public readonly LoopStream Stream = stream;
    public readonly RedisReplyBuffer Replies = replies;
    public bool CloseAfterReply;    // QUIT or a protocol error
    public int NeedBytes;           // a partial command is known to need at least this much input: do not parse before
    public int Index = -1;          // position in RedisServer._clients while connected

    /// <summary>Makes room for at least <paramref name="bytes"/> more reply bytes.</summary>
    public Span<byte> ReserveOut(int bytes) => Replies.Reserve(bytes);

    /// <summary>Reply bytes assembled so far.</summary>
    public ref int OutLength => ref Replies.Length;

    public void Write(ReadOnlySpan<byte> bytes) => Replies.Write(bytes);
}
