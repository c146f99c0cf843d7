using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>The built-in codecs on their own: framing, limits checked early, encoding.</summary>
public class CodecTests : FdCheckedTest
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
}
