using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// <see cref="LoopStream.OnCodecError"/>: when the codec rejects the input (a line too long), the server can answer
/// before the stream closes; the reply reaches the peer, then the stream closes with <see cref="CloseReason.CodecError"/>.
/// On every backend: the fakes' peer is scripted (the fake proactor's sends are completed and their bytes collected).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.All))]
public class CodecErrorReplyTests(Backend backend) : FdCheckedTest
{
    private static LoopStream Open(Loop loop, int fd, List<string> events)
    {
        var s = new LoopStream(loop, fd, new LoopStreamOptions { Codec = new LineCodec(maxLineLength: 16), FdKind = StreamFdKind.Socket });
        s.OnMessage = (st, m) => { events.Add("message:" + Encoding.ASCII.GetString(m)); st.WriteMessage(m); };
        s.OnError = (_, ex) => events.Add("error:" + ex.GetType().Name);
        s.OnClose = (_, r) => events.Add("close:" + r);
        return s;
    }

    [Test]
    public void ALineTooLongGetsAnErrorReplyThenTheStreamDrainsAndCloses()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var events = new List<string>();
            var s = Open(loop, a, events);
            s.OnCodecError = (st, ex) =>
            {
                events.Add("codec:" + ex.GetType().Name);
                Assert.That(st.IsClosed, Is.False);
                st.Write("ERR line too long\n"u8);
            };
            s.Start();
            ScriptedPeer.Sends(loop, a, b, Encoding.ASCII.GetBytes("hello\n" + new string('x', 40) + "\nnot delivered\n"));
            var got = new MemoryStream();
            loop.RunUntil(() => { ScriptedPeer.Reads(loop, a, b, got); return events.Contains("close:" + CloseReason.CodecError); });
            ScriptedPeer.Reads(loop, a, b, got);

            Assert.That(Encoding.ASCII.GetString(got.ToArray()), Is.EqualTo("hello\nERR line too long\n"));
            Assert.That(events, Is.EqualTo(new[] { "message:hello", "codec:InvalidDataException", "error:InvalidDataException", "close:" + CloseReason.CodecError }));
            Assert.That(s.CloseReason, Is.EqualTo(CloseReason.CodecError));
            Assert.That(s.Error, Is.InstanceOf<InvalidDataException>().With.Message.Contains("LineCodec"));
            Assert.That(Posix.TryRead(b, new byte[1]), Is.Zero, "the peer then reads EOF");
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void WithoutTheHandlerTheStreamClosesAtOnceAndTheHandlerMayCloseItself()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var (c, d) = Posix.SocketPair();
        try
        {
            var plainEvents = new List<string>();
            var plain = Open(loop, a, plainEvents);
            plain.Start();
            var closingEvents = new List<string>();
            var closing = Open(loop, c, closingEvents);
            closing.OnCodecError = (st, _) => st.Close();
            closing.Start();
            var tooLong = Encoding.ASCII.GetBytes(new string('x', 40) + "\n");
            ScriptedPeer.Sends(loop, a, b, tooLong);
            ScriptedPeer.Sends(loop, c, d, tooLong);
            loop.RunUntil(() => plain.IsClosed && closing.IsClosed && plainEvents.Count == 2 && closingEvents.Count == 1);
            Assert.That(plainEvents, Is.EqualTo(new[] { "error:InvalidDataException", "close:" + CloseReason.CodecError }));
            Assert.That(closingEvents, Is.EqualTo(new[] { "close:" + CloseReason.Local }), "the handler's own close stands");
        }
        finally
        {
            Posix.Close(b);
            Posix.Close(d);
        }
    }

    [Test]
    public void APendingMessageReadFailsWithTheCodecErrorAfterTheReply()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var s = new LoopStream(loop, a, new LoopStreamOptions { Codec = new LineCodec(maxLineLength: 16), FdKind = StreamFdKind.Socket });
            s.OnCodecError = (st, _) => st.WriteMessage("ERR"u8);
            Task<ReadOnlyMemory<byte>?>? read = null;
            loop.Post(_ => read = s.ReadMessageAsync().AsTask());
            loop.RunUntil(() => read is not null);
            loop.RunOnce(TimeSpan.Zero);
            ScriptedPeer.Sends(loop, a, b, Encoding.ASCII.GetBytes(new string('y', 40) + "\n"));
            var got = new MemoryStream();
            loop.RunUntil(() => { ScriptedPeer.Reads(loop, a, b, got); return s.IsClosed && read!.IsCompleted; });
            ScriptedPeer.Reads(loop, a, b, got);
            Assert.That(read!.IsFaulted && read.Exception!.InnerException is InvalidDataException, Is.True);
            Assert.That(Encoding.ASCII.GetString(got.ToArray()), Is.EqualTo("ERR\n"));
            Assert.That(s.CloseReason, Is.EqualTo(CloseReason.CodecError));
        }
        finally { Posix.Close(b); }
    }
}
