using System.Text;

namespace LinuxEvent.Net.Tests;

/// <summary>Helpers of the stream memory and receive-path tests.</summary>
public static class Streams
{
    /// <summary>A proactor loop with the given stream receive mode; uring fixtures are inconclusive without io_uring.</summary>
    public static ProactorLoop Proactor(ProactorBackend backend, StreamReceiveMode mode, int bufferCount = 256, int bufferSize = 16 * 1024)
    {
        try
        {
            return Loop.CreateProactor(new ProactorOptions { Backend = backend, StreamReceive = mode, StreamBufferCount = bufferCount, StreamBufferSize = bufferSize });
        }
        catch (LinuxEventUnsupportedException ex)
        {
            Assert.Ignore("io_uring (or its shared receive ring) unavailable here: " + ex.Message);
            throw;
        }
    }

    /// <summary>
    /// The real backends, with the proactor once per stream receive path: the loop's shared provided-buffer ring (what
    /// Auto picks on this kernel) and per-stream buffers (the fallback for kernels without it).
    /// </summary>
    public static IEnumerable<TestFixtureData> ReceivePaths()
    {
        foreach (var b in Backends.Real)
        {
            if (b.Model == LoopModel.Reactor)
            {
                yield return new TestFixtureData(b, StreamReceiveMode.Auto).SetArgDisplayNames(b.Name);
                continue;
            }
            yield return new TestFixtureData(b, StreamReceiveMode.Auto).SetArgDisplayNames(b.Name + ", shared ring");
            yield return new TestFixtureData(b, StreamReceiveMode.PerStreamBuffer).SetArgDisplayNames(b.Name + ", per-stream buffers");
        }
    }

    /// <summary>Waits until a proactor has no operation left in flight (closed streams' receives have settled).</summary>
    public static void Settle(Loop loop)
    {
        if (loop is ProactorLoop p) loop.RunUntil(() => p.LiveOperationCount == 0);
    }

    /// <summary>Everything readable on a non-blocking fd now, as ASCII.</summary>
    public static string Drain(int fd) => Encoding.ASCII.GetString(Net.Drain(fd) ?? []);
}
