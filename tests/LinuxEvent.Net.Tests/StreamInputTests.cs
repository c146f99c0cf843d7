using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>
/// <see cref="LoopStream.OnInput"/>: byte mode in which the handler says how much it consumed; the stream keeps only the
/// rest and offers it again with new input. Real sockets on both models.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Real))]
public class StreamInputTests(Backend backend) : FdCheckedTest
{
    /// <summary>A handler that consumes complete lines only.</summary>
    private static int Lines(LoopStream s, ReadOnlySpan<byte> input, List<string> lines)
    {
        int used = 0;
        int nl;
        while ((nl = input[used..].IndexOf((byte)'\n')) >= 0)
        {
            lines.Add(Encoding.ASCII.GetString(input.Slice(used, nl)));
            used += nl + 1;
        }
        return used;
    }

    private static void Finish(Loop loop, LoopStream s, int peer)
    {
        s.Close();
        loop.RunUntil(() => s.Completion.IsCompleted);
        Streams.Settle(loop);
        if (peer >= 0) Posix.Close(peer);
    }

    [Test]
    public void WhatTheHandlerLeavesIsOfferedAgainWithTheNextInputAndNothingElseIsKept()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var lines = new List<string>();
        var offered = new List<string>();
        var s = new LoopStream(loop, a);
        s.OnInput = (st, input) => { offered.Add(Encoding.ASCII.GetString(input)); return Lines(st, input, lines); };
        s.Start();

        Posix.Write(b, "one\ntw"u8);
        loop.RunUntil(() => lines.Count == 1 && s.BytesReceived == 6);
        Assert.That(s.InputBufferBytes, Is.InRange(2, 256), "\"tw\" is kept, in a small array");
        Posix.Write(b, "o\nthree\n"u8);
        loop.RunUntil(() => lines.Count == 3);
        Assert.That(lines, Is.EqualTo(new[] { "one", "two", "three" }));
        Assert.That(offered[^1], Does.StartWith("tw"), "the kept bytes come first");
        Assert.That(s.InputBufferBytes, Is.Zero, "everything consumed: no buffer kept");
        Finish(loop, s, b);
    }

    [Test]
    public void LeftoverAtEofIsDroppedAndOnEndRuns()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var lines = new List<string>();
        bool ended = false;
        var s = new LoopStream(loop, a);
        s.OnInput = (st, input) => Lines(st, input, lines);
        s.OnEnd = _ => ended = true;
        s.Start();
        Posix.Write(b, "done\nhalf"u8);
        Posix.Shutdown(b, 1);
        loop.RunUntil(() => s.IsClosed);
        Assert.That(ended, Is.True);
        Assert.That(lines, Is.EqualTo(new[] { "done" }));
        Assert.That(s.CloseReason, Is.EqualTo(CloseReason.PeerClosed));
        loop.RunUntil(() => s.Completion.IsCompleted);
        Streams.Settle(loop);
        Posix.Close(b);
    }

    [Test]
    public void PausingInsideTheHandlerKeepsTheRestUntilResume()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var lines = new List<string>();
        var s = new LoopStream(loop, a);
        s.OnInput = (st, input) =>
        {
            // Take one line per call and pause after it.
            int nl = input.IndexOf((byte)'\n');
            if (nl < 0) return 0;
            lines.Add(Encoding.ASCII.GetString(input[..nl]));
            st.PauseRead();
            return nl + 1;
        };
        s.Start();
        Posix.Write(b, "a\nb\nc\n"u8);
        loop.RunUntil(() => lines.Count == 1 && s.BytesReceived == 6);
        for (int i = 0; i < 5; i++) loop.RunOnce(TimeSpan.Zero);
        Assert.That(lines, Is.EqualTo(new[] { "a" }));
        s.ResumeRead();
        loop.RunUntil(() => lines.Count == 2);
        s.ResumeRead();
        loop.RunUntil(() => lines.Count == 3);
        Assert.That(lines, Is.EqualTo(new[] { "a", "b", "c" }));
        Finish(loop, s, b);
    }

    [Test]
    public void AThrowingHandlerOrABadCountIsReportedAndItsInputIsNotOfferedAgain()
    {
        using var loop = backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, ex) => errors.Add(ex);
        var (a, b) = Posix.SocketPair();
        int calls = 0;
        var s = new LoopStream(loop, a);
        s.OnInput = (_, input) =>
        {
            calls++;
            if (input.SequenceEqual("boom"u8)) throw new InvalidOperationException("boom");
            return input.Length + 1;                           // out of range
        };
        s.Start();
        Posix.Write(b, "boom"u8);
        loop.RunUntil(() => errors.Count == 1);
        Posix.Write(b, "next"u8);
        loop.RunUntil(() => errors.Count == 2);
        Assert.That(errors[0].Message, Is.EqualTo("boom"));
        Assert.That(errors[1].Message, Does.Contain("OnInput returned 5 for 4 bytes"));
        Assert.That(calls, Is.EqualTo(2), "neither input was offered again");
        Assert.That(s.InputBufferBytes, Is.Zero);
        Assert.That(s.IsClosed, Is.False);
        Finish(loop, s, b);
    }

    [Test]
    public void AnOnInputEchoAllocatesNothingPerMessageInSteadyState()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var server = new LoopStream(loop, a) { OnInput = static (st, input) => { st.Write(input); return input.Length; } };
        server.Start();
        long echoed = 0;
        var client = new LoopStream(loop, b) { OnData = (_, d) => echoed += d.Length };
        client.Start();
        var payload = new byte[64];
        void Exchange(int count)
        {
            long target = echoed + count * 64L;
            for (int i = 0; i < count; i++)
            {
                client.Write(payload);
                loop.RunOnce(TimeSpan.Zero);
            }
            for (int spins = 0; echoed < target && spins < 100_000; spins++) loop.RunOnce(TimeSpan.FromMilliseconds(1));
        }
        Exchange(2000);                                                  // warm up: pools, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exchange(10_000);
        long perMessage = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000;
        Assert.That(echoed, Is.EqualTo(12_000 * 64L));
        Assert.That(perMessage, Is.LessThan(8), $"{perMessage} B allocated per echoed message");
        client.Close();
        Finish(loop, server, -1);
    }

    [Test]
    public void StartRefusesOnInputWithOnDataOrWithACodec()
    {
        using var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        var s = new LoopStream(loop, a) { OnInput = (_, i) => i.Length, OnData = (_, _) => { } };
        Assert.That(() => s.Start(), Throws.InvalidOperationException.With.Message.Contains("not both"));
        var (c, d) = Posix.SocketPair();
        var m = new LoopStream(loop, c, new LoopStreamOptions { Codec = new LineCodec() }) { OnInput = (_, i) => i.Length, OnMessage = (_, _) => { } };
        Assert.That(() => m.Start(), Throws.InvalidOperationException.With.Message.Contains("OnInput is byte mode"));
        Finish(loop, s, b);
        Finish(loop, m, d);
    }
}
