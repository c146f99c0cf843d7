namespace LinuxEvent.Simulation;

/// <summary>
/// The simulation's one source of randomness: xoshiro256** seeded through SplitMix64, with <see cref="Split"/> to give
/// each consumer (the network, the faults, a scenario's clients) its own independent stream. Everything a run decides
/// comes from the seed, so a seed replays a run exactly. Not thread-safe (a simulation is single-threaded).
/// </summary>
/// <remarks>
/// Splitting keeps streams independent of each other's consumption: a scenario that draws one more number for its
/// clients does not shift the network's decisions. Written here (not System.Random) so that the sequence is fixed by
/// this file alone, on every runtime version.
/// </remarks>
public sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose whole sequence is determined by <paramref name="seed"/>.</summary>
    public SimRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A new generator seeded from this one: an independent stream for another consumer.</summary>
    public SimRandom Split() => new(NextUInt64());

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>) (0 when <paramref name="maxExclusive"/> ≤ 1).</summary>
    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 1) return 0;
        // Lemire's multiply-shift: unbiased enough for simulation and branch-free.
        return (int)((NextUInt64() >> 32) * (ulong)maxExclusive >> 32);
    }

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>] (inclusive).</summary>
    public long NextInRange(long min, long max)
    {
        if (max <= min) return min;
        ulong span = (ulong)(max - min) + 1;
        return span == 0 ? (long)NextUInt64() : min + (long)(NextUInt64() % span);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>True with probability <paramref name="probability"/> (never for ≤ 0, always for ≥ 1; no draw then).</summary>
    public bool Chance(double probability) => probability > 0 && (probability >= 1 || NextDouble() < probability);

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
