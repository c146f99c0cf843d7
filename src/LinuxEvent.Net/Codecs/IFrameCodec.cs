namespace LinuxEvent.Net;

/// <summary>
/// Splits a byte stream into messages and frames outgoing messages: the message mode of <see cref="LoopStream"/>.
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> <see cref="Decode"/> is given all buffered bytes not yet consumed, starting at a frame
/// boundary, and must be a pure function of them: the stream may call it again with the same bytes plus more. It must
/// enforce its size limits on incomplete input too (return <see cref="FrameStatus.Invalid"/> as soon as the bytes
/// seen prove the frame too long), because the stream buffers an incomplete frame until it completes: that check is
/// what bounds a stream's memory against a hostile peer.</para>
/// <para>Implementations must not keep per-stream state in the instance unless they are used by one stream only; the
/// built-in codecs are stateless and may be shared by any number of streams.</para>
/// </remarks>
public interface IFrameCodec
{
    /// <summary>Looks for one frame at the start of <paramref name="input"/>.</summary>
    FrameStatus Decode(ReadOnlySpan<byte> input, out Frame frame);

    /// <summary>
    /// Called once at end of stream when <paramref name="input"/> (never empty) holds an incomplete frame. Return
    /// <see cref="FrameStatus.Complete"/> to deliver a final frame (e.g. a last line without newline), or
    /// <see cref="FrameStatus.Invalid"/> (the default) to report a truncated frame.
    /// </summary>
    FrameStatus DecodeAtEnd(ReadOnlySpan<byte> input, out Frame frame)
    {
        frame = Frame.Invalid($"the stream ended inside a frame ({input.Length} bytes of an incomplete frame buffered)");
        return FrameStatus.Invalid;
    }

    /// <summary>Bytes <see cref="Encode"/> writes for a payload of <paramref name="payloadLength"/> bytes.</summary>
    /// <exception cref="ArgumentException">The payload exceeds the codec's limit.</exception>
    int GetEncodedLength(int payloadLength);

    /// <summary>Writes the framed <paramref name="payload"/> into <paramref name="destination"/>, which is exactly
    /// <see cref="GetEncodedLength"/> bytes long.</summary>
    /// <exception cref="ArgumentException">The payload cannot be framed (e.g. a line containing the delimiter).</exception>
    void Encode(ReadOnlySpan<byte> payload, Span<byte> destination);
}
