using System.Globalization;

namespace LinuxEvent.FileBench;

/// <summary>The command line (see Program's usage text).</summary>
internal sealed class Options
{
    public List<string> Engines { get; } = new();
    public string File { get; set; } = "";
    public long Size { get; set; } = 1L << 30;
    public int BlockSize { get; set; } = 4096;
    public int Depth { get; set; } = 32;
    public bool Direct { get; set; } = true;
    public double Seconds { get; set; } = 10;
    public double Warmup { get; set; } = 2;
    public int Workers { get; set; } = 4;
    public bool InlineCachedReads { get; set; } = true;
    public bool Create { get; set; }
    public bool Delete { get; set; }

    public static readonly string[] AllEngines = { "fio", "proactor", "proactor-fixed", "reactor", "reactor-workers", "randomaccess" };

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--engine":
                    foreach (var e in Next().Split(',', StringSplitOptions.RemoveEmptyEntries))
                    {
                        if (e == "all") o.Engines.AddRange(AllEngines);
                        else if (AllEngines.Contains(e)) o.Engines.Add(e);
                        else throw new ArgumentException($"unknown engine {e}; one of {string.Join(", ", AllEngines)}, all");
                    }
                    break;
                case "--file": o.File = Next(); break;
                case "--size": o.Size = ParseSize(Next()); break;
                case "--bs": o.BlockSize = (int)ParseSize(Next()); break;
                case "--depth": o.Depth = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--direct": o.Direct = true; break;
                case "--buffered": o.Direct = false; break;
                case "--seconds": o.Seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": o.Warmup = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--workers": o.Workers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-inline": o.InlineCachedReads = false; break;
                case "--create": o.Create = true; break;
                case "--delete": o.Delete = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (o.File.Length == 0) throw new ArgumentException("--file is required");
        if (o.Engines.Count == 0) o.Engines.AddRange(AllEngines);
        if (o.BlockSize < 512 || o.Size < o.BlockSize || o.Depth < 1) throw new ArgumentException("bad --bs, --size or --depth");
        return o;
    }

    private static long ParseSize(string s)
    {
        s = s.Trim().ToLowerInvariant();
        long mul = 1;
        if (s.EndsWith('k')) mul = 1L << 10;
        else if (s.EndsWith('m')) mul = 1L << 20;
        else if (s.EndsWith('g')) mul = 1L << 30;
        if (mul != 1) s = s[..^1];
        return long.Parse(s, CultureInfo.InvariantCulture) * mul;
    }
}
