namespace LinuxEvent.Net;

/// <summary>
/// Newline-delimited messages. A message is the bytes before <c>\n</c> (a preceding <c>\r</c> is stripped when
/// <see cref="StripCarriageReturn"/> is set); encoding appends <c>\n</c>. Stateless: one instance may serve many streams.
/// </summary>
public sealed class LineCodec : IFrameCodec
{
    /// <summary>Creates a line codec.</summary>
    /// <param name="maxLineLength">Longest accepted line in bytes, without the delimiter. Enforced before the
    /// newline arrives: once more than this many bytes are buffered without a newline, the input is invalid.</param>
    /// <param name="stripCarriageReturn">Treat <c>\r\n</c> as the delimiter too (the <c>\r</c> is not part of the message).</param>
    /// <param name="allowUnterminatedLastLine">At end of stream, deliver trailing bytes without a newline as a last line
    /// (as <c>cat</c> output or a file may end); otherwise they are a truncated-frame error.</param>
    public LineCodec(int maxLineLength = 64 * 1024, bool stripCarriageReturn = true, bool allowUnterminatedLastLine = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        MaxLineLength = maxLineLength;
        StripCarriageReturn = stripCarriageReturn;
        AllowUnterminatedLastLine = allowUnterminatedLastLine;
    }

    /// <summary>Longest accepted line in bytes (without delimiter).</summary>
    public int MaxLineLength { get; }
    /// <summary>Whether a <c>\r</c> before the <c>\n</c> is stripped.</summary>
    public bool StripCarriageReturn { get; }
    /// <summary>Whether unterminated trailing bytes at end of stream form a last line.</summary>
    public bool AllowUnterminatedLastLine { get; }

    /// <inheritdoc />
    public FrameStatus Decode(ReadOnlySpan<byte> input, out Frame frame)
    {
        // Only the first MaxLineLength + 2 bytes can hold the delimiter of a legal line ("\r\n" after a maximal line),
        // so the scan is bounded however much is buffered.
        int window = (int)Math.Min(input.Length, (long)MaxLineLength + 2);
        int nl = input.Slice(0, window).IndexOf((byte)'\n');
        if (nl < 0)
        {
            frame = default;
            int limit = MaxLineLength + (StripCarriageReturn && input.Length > MaxLineLength && input[MaxLineLength] == (byte)'\r' ? 1 : 0);
            if (input.Length > limit)
            {
                frame = Frame.Invalid($"line longer than {MaxLineLength} bytes (no newline within the limit)");
                return FrameStatus.Invalid;
            }
            return FrameStatus.NeedMoreData;
        }
        int length = nl;
        if (StripCarriageReturn && length > 0 && input[length - 1] == (byte)'\r') length--;
        if (length > MaxLineLength)
        {
            frame = Frame.Invalid($"line longer than {MaxLineLength} bytes ({length})");
            return FrameStatus.Invalid;
        }
        frame = new Frame(nl + 1, 0, length);
        return FrameStatus.Complete;
    }

    /// <inheritdoc />
    public FrameStatus DecodeAtEnd(ReadOnlySpan<byte> input, out Frame frame)
    {
        if (!AllowUnterminatedLastLine)
        {
            frame = Frame.Invalid($"the stream ended inside a line ({input.Length} bytes without a newline)");
            return FrameStatus.Invalid;
        }
        int length = input.Length;
        if (StripCarriageReturn && input[length - 1] == (byte)'\r') length--;
        frame = new Frame(input.Length, 0, length);
        return FrameStatus.Complete;
    }

    /// <inheritdoc />
    public int GetEncodedLength(int payloadLength)
    {
        if (payloadLength > MaxLineLength)
            throw new ArgumentException($"LineCodec: a {payloadLength}-byte line exceeds MaxLineLength ({MaxLineLength}).", nameof(payloadLength));
        return payloadLength + 1;
    }

    /// <inheritdoc />
    public void Encode(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        if (payload.IndexOf((byte)'\n') >= 0) throw new ArgumentException("LineCodec: a line must not contain '\\n'.", nameof(payload));
        payload.CopyTo(destination);
        destination[payload.Length] = (byte)'\n';
    }
}
