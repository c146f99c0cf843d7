namespace LinuxEvent.Net;

/// <summary>Outcome of <see cref="IFrameCodec.Decode"/>.</summary>
public enum FrameStatus
{
    /// <summary>The input holds no complete frame yet and nothing is wrong so far: wait for more bytes.</summary>
    NeedMoreData,
    /// <summary>A complete frame starts the input; see <see cref="Frame"/>.</summary>
    Complete,
    /// <summary>The input violates the format or a limit; <see cref="Frame.Error"/> says how. The stream closes with
    /// <see cref="CloseReason.CodecError"/>.</summary>
    Invalid,
}
