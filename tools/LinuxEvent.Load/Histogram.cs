using System.Numerics;

namespace LinuxEvent.Load;

/// <summary>
/// Latency histogram with bounded relative error (log-linear buckets; the algorithm of tools/baselines/histogram.c).
/// Values below 2^(Sub+1) have a bucket each; every range [2^e, 2^(e+1)) above is split into 2^Sub equal buckets, so
/// a quantile is reported at most 2^-Sub (0.8%) above the true value (the bucket's highest value). The maximum is
/// exact. Recording allocates nothing.
/// </summary>
internal sealed class Histogram
{
    private const int Sub = 7;
    private readonly long[] _buckets = new long[(64 - Sub + 1) << Sub];

    public long Count { get; private set; }
    public long Max { get; private set; }

    public void Record(long value)
    {
        ulong v = (ulong)Math.Max(value, 0);
        int index;
        if (v < 2u << Sub) index = (int)v;
        else
        {
            int shift = BitOperations.Log2(v) - Sub;
            index = (shift << Sub) + (int)(v >> shift);
        }
        _buckets[index]++;
        Count++;
        if ((long)v > Max) Max = (long)v;
    }

    /// <summary>The smallest bucket bound at or below which at least <paramref name="q"/> of the values lie (q = 1: the
    /// exact maximum); 0 when empty.</summary>
    public long Quantile(double q)
    {
        if (Count == 0) return 0;
        if (q >= 1) return Max;
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= rank) return Math.Min(High(i), Max);
        }
        return Max;
    }

    private static long High(int i)
    {
        if (i < 2 << Sub) return i;
        int shift = (i >> Sub) - 1;
        long top = (i & ((1 << Sub) - 1)) | (1 << Sub);
        return ((top + 1) << shift) - 1;
    }
}
