using System.Globalization;

namespace LinuxEvent.UdpBench;

/// <summary>"--name value" options of one command; unknown names are errors, so a typo never runs a wrong benchmark.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Options(string[] args, int start)
    {
        for (int i = start; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected '--name value', got '{args[i]}'");
            _values[args[i][2..]] = args[++i];
        }
    }

    public string Text(string name, string fallback)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : fallback;
    }

    public int Int(string name, int fallback, int min = 0)
    {
        string s = Text(name, fallback.ToString(CultureInfo.InvariantCulture));
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min)
            throw new ArgumentException($"--{name} must be an integer >= {min}, got '{s}'");
        return v;
    }

    /// <summary>Throws for options nobody asked for.</summary>
    public void CheckAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}");
    }
}
