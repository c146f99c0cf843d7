using System.Globalization;

namespace LinuxEvent.Simulation;

/// <summary>
/// The event trace of a run: one text line per scheduler decision or delivery, each prefixed with the virtual time
/// since the start of the run (seconds, nanosecond precision). The same seed gives a byte-identical trace. The lines
/// are kept only when asked (<see cref="SimulationOptions.RecordTrace"/>); the 64-bit FNV-1a <see cref="Hash"/> over the
/// text is always computed, so two runs compare cheaply.
/// </summary>
/// <remarks>
/// Lines name hosts and sockets by the simulation's own identifiers (<c>client3</c>, <c>s12</c>), never by fd number
/// or anything else the process decides: the trace depends on the seed and the code under test only.
/// </remarks>
public sealed class SimTrace
{
    private const ulong FnvOffset = 0xCBF29CE484222325UL, FnvPrime = 0x100000001B3UL;
    private readonly List<string>? _lines;
    private readonly Func<long> _now;
    private readonly long _origin;
    private ulong _hash = FnvOffset;

    internal SimTrace(bool keepLines, Func<long> now)
    {
        _lines = keepLines ? new List<string>() : null;
        _now = now;
        _origin = now();
    }

    /// <summary>64-bit FNV-1a over every line and its newline, in order.</summary>
    public ulong Hash => _hash;

    /// <summary><see cref="Hash"/> as 16 lowercase hex digits.</summary>
    public string HashText => _hash.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Number of lines written (kept or not).</summary>
    public int LineCount { get; private set; }

    /// <summary>True when the lines are kept (<see cref="Lines"/>).</summary>
    public bool IsRecording => _lines is not null;

    /// <summary>The lines, when recorded; empty otherwise.</summary>
    public IReadOnlyList<string> Lines => (IReadOnlyList<string>?)_lines ?? Array.Empty<string>();

    /// <summary>Adds a line from the scenario (an observation, a checkpoint) at the current virtual time.</summary>
    public void Note(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write("note " + text);
    }

    /// <summary>Writes the recorded lines, one per line.</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var line in Lines) writer.WriteLine(line);
    }

    /// <summary>Appends a line at the current virtual time.</summary>
    internal void Write(string text)
    {
        long t = _now() - _origin;
        Span<char> prefix = stackalloc char[32];
        int n = FormatTime(t, prefix);
        prefix[n++] = ' ';
        Mix(prefix[..n]);
        Mix(text);
        Mix("\n");
        LineCount++;
        _lines?.Add(string.Concat(prefix[..n], text));
    }

    private static int FormatTime(long ns, Span<char> dst)
    {
        long seconds = ns / 1_000_000_000L, fraction = ns % 1_000_000_000L;
        seconds.TryFormat(dst, out int a, provider: CultureInfo.InvariantCulture);
        dst[a++] = '.';
        fraction.TryFormat(dst[a..], out int b, "D9", CultureInfo.InvariantCulture);
        return a + b;
    }

    private void Mix(ReadOnlySpan<char> text)
    {
        ulong h = _hash;
        foreach (char c in text)
        {
            h ^= (byte)c;
            h *= FnvPrime;
            if (c > 0xFF)
            {
                h ^= (byte)(c >> 8);
                h *= FnvPrime;
            }
        }
        _hash = h;
    }

    /// <summary>Combines per-run hashes, in order, into one (the runner's hash over all seeds).</summary>
    public static ulong Combine(IEnumerable<ulong> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ulong h = FnvOffset;
        foreach (ulong x in hashes)
            for (int i = 0; i < 8; i++)
            {
                h ^= (byte)(x >> (8 * i));
                h *= FnvPrime;
            }
        return h;
    }
}
