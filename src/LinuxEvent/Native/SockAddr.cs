using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Native;

/// <summary>Encodes and decodes struct sockaddr_in / sockaddr_in6 / sockaddr_un (Linux layouts, identical on x86-64 and arm64).</summary>
internal static class SockAddr
{
    /// <summary>sizeof(struct sockaddr_storage).</summary>
    public const int MaxSize = 128;

    /// <summary>Writes <paramref name="ep"/> into <paramref name="dst"/> and returns the address length.</summary>
    /// <exception cref="ArgumentException">Unsupported endpoint type or address family, or a Unix path too long.</exception>
    public static int Write(EndPoint ep, Span<byte> dst)
    {
        dst.Slice(0, MaxSize).Clear();
        switch (ep)
        {
            case IPEndPoint ip when ip.AddressFamily == AddressFamily.InterNetwork:
                BinaryPrimitives.WriteUInt16LittleEndian(dst, Libc.AF_INET);        // sa_family_t is host order (LE on x86-64/arm64)
                BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(2), (ushort)ip.Port);
                ip.Address.TryWriteBytes(dst.Slice(4, 4), out _);
                return 16;
            case IPEndPoint ip6 when ip6.AddressFamily == AddressFamily.InterNetworkV6:
                BinaryPrimitives.WriteUInt16LittleEndian(dst, Libc.AF_INET6);
                BinaryPrimitives.WriteUInt16BigEndian(dst.Slice(2), (ushort)ip6.Port);
                ip6.Address.TryWriteBytes(dst.Slice(8, 16), out _);
                BinaryPrimitives.WriteUInt32LittleEndian(dst.Slice(24), (uint)ip6.Address.ScopeId);
                return 28;
            case UnixDomainSocketEndPoint ux:
            {
                string path = ux.ToString();
                BinaryPrimitives.WriteUInt16LittleEndian(dst, Libc.AF_UNIX);
                bool isAbstract = path.Length > 0 && path[0] == '@';
                var bytes = Encoding.UTF8.GetBytes(isAbstract ? path.Substring(1) : path);
                int off = isAbstract ? 3 : 2;
                if (bytes.Length + off > 108 + 2 - (isAbstract ? 0 : 1))
                    throw new ArgumentException($"Unix socket path is too long ({bytes.Length} bytes; the limit is 107).", nameof(ep));
                bytes.CopyTo(dst.Slice(off));
                return isAbstract ? off + bytes.Length : off + bytes.Length + 1;
            }
            default:
                throw new ArgumentException($"Unsupported endpoint '{ep}' ({ep.AddressFamily}); use IPEndPoint or UnixDomainSocketEndPoint.", nameof(ep));
        }
    }

    /// <summary>Decodes a sockaddr of <paramref name="length"/> bytes; null for unknown families and unnamed Unix sockets.</summary>
    public static EndPoint? Read(ReadOnlySpan<byte> src, int length)
    {
        if (length < 2) return null;
        int family = BinaryPrimitives.ReadUInt16LittleEndian(src);
        switch (family)
        {
            case Libc.AF_INET when length >= 16:
                return new IPEndPoint(new IPAddress(src.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(src.Slice(2)));
            case Libc.AF_INET6 when length >= 28:
                return new IPEndPoint(new IPAddress(src.Slice(8, 16), BinaryPrimitives.ReadUInt32LittleEndian(src.Slice(24))), BinaryPrimitives.ReadUInt16BigEndian(src.Slice(2)));
            case Libc.AF_UNIX:
            {
                var path = src.Slice(2, length - 2);
                if (path.Length == 0) return null;                                   // unnamed socket
                // Abstract name: .NET's own form is a leading NUL (ToString shows "@name", which Write also accepts), so the
                // endpoint equals the one the peer bound with and means the same thing to a System.Net socket.
                if (path[0] == 0) return new UnixDomainSocketEndPoint("\0" + Encoding.UTF8.GetString(path.Slice(1)));
                int nul = path.IndexOf((byte)0);
                return new UnixDomainSocketEndPoint(Encoding.UTF8.GetString(nul >= 0 ? path.Slice(0, nul) : path));
            }
            default:
                return null;
        }
    }
}
