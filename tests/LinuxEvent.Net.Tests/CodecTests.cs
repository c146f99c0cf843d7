using System.Text;

namespace LinuxEvent.Net.Tests;

public class CodecTests
{
    private static FrameStatus Decode(IFrameCodec c, string s, out Frame f) => c.Decode(Encoding.ASCII.GetBytes(s), out f);

    [Test]
    public void LineCodecStripsCrAndEnforcesTheLimitBeforeTheNewline()
    {
        var c = new LineCodec(maxLineLength: 4);
        Assert.That(Decode(c, "ab\r\nzz", out var f), Is.EqualTo(FrameStatus.Complete));
        Assert.That((f.Consumed, f.PayloadOffset, f.PayloadLength), Is.EqualTo((4, 0, 2)));
        Assert.That(Decode(c, "abcd", out _), Is.EqualTo(FrameStatus.NeedMoreData));
        Assert.That(Decode(c, "abcd\r", out _), Is.EqualTo(FrameStatus.NeedMoreData), "CR of a maximal line may precede LF");
        Assert.That(Decode(c, "abcde", out f), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(f.Error, Does.Contain("longer than 4"));
        Assert.That(Decode(c, "abcde\n", out _), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(c.DecodeAtEnd("ab"u8, out f), Is.EqualTo(FrameStatus.Complete));
        Assert.That(new LineCodec(allowUnterminatedLastLine: false).DecodeAtEnd("ab"u8, out _), Is.EqualTo(FrameStatus.Invalid));
        Assert.Throws<ArgumentException>(() => c.Encode("a\nb"u8, new byte[4]));
        Assert.Throws<ArgumentException>(() => c.GetEncodedLength(5));
    }

    [Test]
    public void NetstringRejectsBadInputEarly()
    {
        var c = new NetstringCodec(maxFrameLength: 100);
        Assert.That(Decode(c, "5:hello,", out var f), Is.EqualTo(FrameStatus.Complete));
        Assert.That((f.Consumed, f.PayloadOffset, f.PayloadLength), Is.EqualTo((8, 2, 5)));
        Assert.That(Decode(c, "0:,", out f), Is.EqualTo(FrameStatus.Complete));
        Assert.That(f.PayloadLength, Is.Zero);
        Assert.That(Decode(c, "10", out _), Is.EqualTo(FrameStatus.NeedMoreData));
        Assert.That(Decode(c, "101", out f), Is.EqualTo(FrameStatus.Invalid), "over the limit while the digits arrive");
        Assert.That(Decode(c, "1000", out _), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(Decode(c, "05:hello,", out _), Is.EqualTo(FrameStatus.Invalid), "leading zero");
        Assert.That(Decode(c, "x", out _), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(Decode(c, ":", out _), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(Decode(c, "2:ab;", out f), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(f.Error, Does.Contain("missing ','"));
        var buf = new byte[c.GetEncodedLength(12)];
        c.Encode("hello world!"u8, buf);
        Assert.That(Encoding.ASCII.GetString(buf), Is.EqualTo("12:hello world!,"));
    }

    [Test]
    public void U32beChecksTheHeaderBeforeThePayload()
    {
        var c = new LengthPrefixedCodec(maxFrameLength: 10);
        Assert.That(c.Decode(new byte[] { 0, 0, 0 }, out _), Is.EqualTo(FrameStatus.NeedMoreData));
        Assert.That(c.Decode(new byte[] { 0, 0, 0, 11 }, out var f), Is.EqualTo(FrameStatus.Invalid));
        Assert.That(f.Error, Does.Contain("11"));
        Assert.That(c.Decode(new byte[] { 0x80, 0, 0, 0 }, out _), Is.EqualTo(FrameStatus.Invalid), "no sign overflow");
        Assert.That(c.Decode(new byte[] { 0, 0, 0, 2, 7 }, out _), Is.EqualTo(FrameStatus.NeedMoreData));
        Assert.That(c.Decode(new byte[] { 0, 0, 0, 2, 7, 8, 9 }, out f), Is.EqualTo(FrameStatus.Complete));
        Assert.That((f.Consumed, f.PayloadOffset, f.PayloadLength), Is.EqualTo((6, 4, 2)));
        var buf = new byte[c.GetEncodedLength(3)];
        c.Encode(new byte[] { 1, 2, 3 }, buf);
        Assert.That(buf, Is.EqualTo(new byte[] { 0, 0, 0, 3, 1, 2, 3 }));
    }

    /// <summary>A user codec: one length byte, then the payload.</summary>
    private sealed class ByteLengthCodec : IFrameCodec
    {
        public FrameStatus Decode(ReadOnlySpan<byte> input, out Frame frame)
        {
            frame = default;
            if (input.Length < 1 || input.Length < 1 + input[0]) return FrameStatus.NeedMoreData;
            frame = new Frame(1 + input[0], 1, input[0]);
            return FrameStatus.Complete;
        }
        public int GetEncodedLength(int payloadLength) => 1 + payloadLength;
        public void Encode(ReadOnlySpan<byte> payload, Span<byte> destination) { destination[0] = (byte)payload.Length; payload.CopyTo(destination[1..]); }
    }

    [Test]
    public void UserCodecWorksThroughAStreamAndTruncationAtEofIsACodecError()
    {
        using var loop = Loop.CreateReactor();
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a, new LoopStreamOptions { Codec = new ByteLengthCodec() });
        var got = new List<string>();
        s.OnMessage = (_, m) => got.Add(Encoding.ASCII.GetString(m));
        s.Start();
        var peer = new LoopStream(loop, b, new LoopStreamOptions { Codec = new ByteLengthCodec() });
        peer.WriteMessage("hi"u8);
        peer.WriteMessage("there"u8);
        peer.Write(new byte[] { 9, 1 });             // a truncated frame, then EOF
        peer.CloseAfterDrain();
        loop.RunUntil(() => s.IsClosed);
        Assert.That(got, Is.EqualTo(new[] { "hi", "there" }));
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.CodecError));
        Assert.That(s.Error!.Message, Does.Contain("ended inside a frame"));
        loop.RunUntil(() => s.Completion.IsCompleted && peer.Completion.IsCompleted);
    }
}
