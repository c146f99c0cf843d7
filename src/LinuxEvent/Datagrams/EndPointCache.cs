using System.Net;
using LinuxEvent.Native;

namespace LinuxEvent.Datagrams;

/// <summary>
/// Decoded peer addresses of one loop, so that receiving from a known peer allocates nothing: a small direct-mapped
/// table keyed by the raw sockaddr bytes. A hit returns the same <see cref="EndPoint"/> object as last time.
/// </summary>
/// <remarks>
/// <see cref="IPEndPoint"/> is mutable (Address and Port have setters). A hit is therefore re-encoded and compared with
/// the received bytes, which costs no allocation: a caller that modified an endpoint it was given gets a fresh one
/// instead of a wrong address. <see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/> is immutable and is not
/// re-checked. A table of <see cref="Size"/> entries keeps up to that many peers allocation-free when their hashes
/// do not collide; beyond that, a miss costs one decode (an IPAddress and an IPEndPoint), as Socket.ReceiveFrom does.
/// </remarks>
internal sealed class EndPointCache
{
    /// <summary>Number of entries (a power of two).</summary>
    public const int Size = 256;

    private readonly Entry[] _entries = new Entry[Size];

    private struct Entry
    {
        public byte[]? Key;
        public int Length;
        public EndPoint? EndPoint;
    }

    /// <summary>The endpoint for a sockaddr of <paramref name="name"/>.Length bytes, or null for an unnamed or unknown one.</summary>
    public EndPoint? Get(ReadOnlySpan<byte> name)
    {
        if (name.Length < 2) return null;              // no address (unnamed Unix socket, stream socket)
        ref var e = ref _entries[Hash(name) & (Size - 1)];
        if (e.Key is not null && e.Length == name.Length && name.SequenceEqual(e.Key.AsSpan(0, e.Length)) && StillEncodes(e.EndPoint!, name))
            return e.EndPoint;
        var endPoint = SockAddr.Read(name, name.Length);
        if (endPoint is null) return null;
        if (e.Key is null || e.Key.Length < name.Length) e.Key = new byte[Math.Max(name.Length, 32)];
        name.CopyTo(e.Key);
        e.Length = name.Length;
        e.EndPoint = endPoint;
        return endPoint;
    }

    private static bool StillEncodes(EndPoint endPoint, ReadOnlySpan<byte> name)
    {
        if (endPoint is not IPEndPoint) return true;
        Span<byte> now = stackalloc byte[SockAddr.MaxSize];
        int length = SockAddr.Write(endPoint, now);
        return length == name.Length && now.Slice(0, length).SequenceEqual(name);
    }

    private static uint Hash(ReadOnlySpan<byte> name)
    {
        uint h = 2166136261;                           // FNV-1a
        foreach (byte b in name) h = (h ^ b) * 16777619;
        return h ^ (h >> 16);
    }
}
