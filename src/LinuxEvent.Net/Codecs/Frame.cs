namespace LinuxEvent.Net;

/// <summary>Where a decoded frame lies in the input given to <see cref="IFrameCodec.Decode"/>.</summary>
public readonly struct Frame
{
    /// <summary>A complete frame.</summary>
    public Frame(int consumed, int payloadOffset, int payloadLength)
    {
        Consumed = consumed;
        PayloadOffset = payloadOffset;
        PayloadLength = payloadLength;
        Error = null;
    }

    private Frame(string error)
    {
        Consumed = PayloadOffset = PayloadLength = 0;
        Error = error;
    }

    /// <summary>An invalid input, with the reason (becomes the stream's error message).</summary>
    public static Frame Invalid(string error) => new(error);

    /// <summary>Bytes of input the frame occupies (header, payload and trailer); the next frame starts after them.</summary>
    public int Consumed { get; }
    /// <summary>Offset of the payload in the input.</summary>
    public int PayloadOffset { get; }
    /// <summary>Payload length.</summary>
    public int PayloadLength { get; }
    /// <summary>Why the input is invalid (for <see cref="FrameStatus.Invalid"/>).</summary>
    public string? Error { get; }
}
