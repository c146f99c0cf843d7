using System.Globalization;
using System.Net;

namespace LinuxEvent.Load;

/// <summary>The command line (the same options as tools/baselines/loadgen.c).</summary>
internal sealed class Options
{
    public const string Usage =
        "usage: LinuxEvent.Load -p PORT [-c CONNS=50] [-s BYTES=64] [-d DEPTH=1] [-t SECS=10] [-w WARMUP=0] [-r RATE=0] [-h 127.0.0.1]\n" +
        "       (long forms: --port --conns --size --depth --seconds --warmup --rate --host); RATE > 0: open loop, msgs/s";

    public int Port, Conns = 50, Size = 64, Depth = 1;
    public double Seconds = 10, Warmup;
    public long Rate;
    public IPAddress Host = IPAddress.Loopback;
    public bool Help;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string V() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            double D() { string v = V(); return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) ? x : throw new ArgumentException($"{a}: bad number '{v}'"); }
            int I() { double d = D(); return d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue ? (int)d : throw new ArgumentException($"{a}: not a whole number"); }
            switch (a)
            {
                case "-p" or "--port": o.Port = I(); break;
                case "-c" or "--conns": o.Conns = I(); break;
                case "-s" or "--size": o.Size = I(); break;
                case "-d" or "--depth": o.Depth = I(); break;
                case "-t" or "--seconds": o.Seconds = D(); break;
                case "-w" or "--warmup": o.Warmup = D(); break;
                case "-r" or "--rate": o.Rate = I(); break;
                case "-h" or "--host":
                    string h = V();
                    if (!IPAddress.TryParse(h, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ip.GetAddressBytes()[0] != 127)
                        throw new ArgumentException("host must be an IPv4 loopback address (127.x.x.x)");
                    o.Host = ip;
                    break;
                case "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown argument '{a}'");
            }
        }
        if (o.Help) return o;
        if (o.Port is <= 0 or > 65535 || o.Conns < 1 || o.Size < 1 || o.Depth < 1 || o.Seconds <= 0 || o.Seconds > 3600 ||
            o.Warmup < 0 || o.Warmup > 3600 || o.Rate < 0 || o.Rate > 1_000_000_000)
            throw new ArgumentException("bad arguments");
        if ((long)o.Size * o.Depth > int.MaxValue) throw new ArgumentException("size x depth too large");
        return o;
    }
}
