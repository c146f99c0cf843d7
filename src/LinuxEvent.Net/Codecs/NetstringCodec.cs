namespace LinuxEvent.Net;

/// <summary>
/// Netstrings (<c>12:hello world!,</c>): a decimal length without leading zeros, <c>:</c>, the payload, <c>,</c>.
/// The announced length is checked against <see cref="MaxFrameLength"/> while the digits arrive, before any payload
/// is buffered. Stateless: one instance may serve many streams.
/// </summary>
public sealed class NetstringCodec : IFrameCodec
{
    private readonly int _maxDigits;

    /// <summary>Creates the codec.</summary>
    /// <param name="maxFrameLength">Largest accepted payload in bytes (1 MiB by default).</param>
    public NetstringCodec(int maxFrameLength = 1024 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxFrameLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameLength, int.MaxValue - 16);
        MaxFrameLength = maxFrameLength;
        _maxDigits = maxFrameLength.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
    }

    /// <summary>Largest accepted payload in bytes.</summary>
    public int MaxFrameLength { get; }

    /// <inheritdoc />
    public FrameStatus Decode(ReadOnlySpan<byte> input, out Frame frame)
    {
        frame = default;
        long length = 0;
        int i = 0;
        for (; i < input.Length; i++)
        {
            byte b = input[i];
            if (b == (byte)':') break;
            if (b < (byte)'0' || b > (byte)'9')
            {
                frame = Frame.Invalid($"netstring: byte 0x{b:x2} where a length digit or ':' was expected");
                return FrameStatus.Invalid;
            }
            if (i == 1 && input[0] == (byte)'0')
            {
                frame = Frame.Invalid("netstring: leading zero in the length");
                return FrameStatus.Invalid;
            }
            length = length * 10 + (b - '0');
            if (i + 1 > _maxDigits || length > MaxFrameLength)
            {
                frame = Frame.Invalid($"netstring: announced length exceeds the limit of {MaxFrameLength} bytes");
                return FrameStatus.Invalid;
            }
        }
        if (i == input.Length) return FrameStatus.NeedMoreData;     // still reading digits
        if (i == 0)
        {
            frame = Frame.Invalid("netstring: empty length");
            return FrameStatus.Invalid;
        }
        long total = i + 1 + length + 1;
        if (input.Length < total) return FrameStatus.NeedMoreData;
        if (input[(int)total - 1] != (byte)',')
        {
            frame = Frame.Invalid($"netstring: missing ',' after a {length}-byte payload");
            return FrameStatus.Invalid;
        }
        frame = new Frame((int)total, i + 1, (int)length);
        return FrameStatus.Complete;
    }

    /// <inheritdoc />
    public int GetEncodedLength(int payloadLength)
    {
        if ((uint)payloadLength > (uint)MaxFrameLength)
            throw new ArgumentException($"NetstringCodec: a {payloadLength}-byte payload exceeds MaxFrameLength ({MaxFrameLength}).", nameof(payloadLength));
        return Digits(payloadLength) + 2 + payloadLength;
    }

    /// <inheritdoc />
    public void Encode(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        int digits = Digits(payload.Length);
        int v = payload.Length;
        for (int i = digits - 1; i >= 0; i--) { destination[i] = (byte)('0' + v % 10); v /= 10; }
        destination[digits] = (byte)':';
        payload.CopyTo(destination.Slice(digits + 1));
        destination[digits + 1 + payload.Length] = (byte)',';
    }

    private static int Digits(int v)
    {
        int d = 1;
        while (v >= 10) { v /= 10; d++; }
        return d;
    }
}
