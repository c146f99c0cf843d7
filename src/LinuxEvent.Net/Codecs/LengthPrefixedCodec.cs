using System.Buffers.Binary;

namespace LinuxEvent.Net;

/// <summary>
/// <c>u32be</c> length-prefixed messages: a 4-byte big-endian payload length, then the payload. The length is checked
/// against <see cref="MaxFrameLength"/> as soon as the 4 header bytes arrive, before any payload is buffered.
/// Stateless: one instance may serve many streams.
/// </summary>
public sealed class LengthPrefixedCodec : IFrameCodec
{
    /// <summary>Header size in bytes.</summary>
    public const int HeaderLength = 4;

    /// <summary>Creates the codec.</summary>
    /// <param name="maxFrameLength">Largest accepted payload in bytes (1 MiB by default; at most <c>int.MaxValue - 4</c>).</param>
    public LengthPrefixedCodec(int maxFrameLength = 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameLength, int.MaxValue - HeaderLength);
        MaxFrameLength = maxFrameLength;
    }

    /// <summary>Largest accepted payload in bytes.</summary>
    public int MaxFrameLength { get; }

    /// <inheritdoc />
    public FrameStatus Decode(ReadOnlySpan<byte> input, out Frame frame)
    {
        frame = default;
        if (input.Length < HeaderLength) return FrameStatus.NeedMoreData;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(input);
        if (length > (uint)MaxFrameLength)
        {
            frame = Frame.Invalid($"frame of {length} bytes announced; the limit is {MaxFrameLength}");
            return FrameStatus.Invalid;
        }
        if (input.Length - HeaderLength < length) return FrameStatus.NeedMoreData;
        frame = new Frame(HeaderLength + (int)length, HeaderLength, (int)length);
        return FrameStatus.Complete;
    }

    /// <inheritdoc />
    public int GetEncodedLength(int payloadLength)
    {
        if ((uint)payloadLength > (uint)MaxFrameLength)
            throw new ArgumentException($"LengthPrefixedCodec: a {payloadLength}-byte payload exceeds MaxFrameLength ({MaxFrameLength}).", nameof(payloadLength));
        return HeaderLength + payloadLength;
    }

    /// <inheritdoc />
    public void Encode(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)payload.Length);
        payload.CopyTo(destination.Slice(HeaderLength));
    }
}
