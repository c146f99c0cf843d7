using System.Globalization;
using LinuxEvent;
using LinuxEvent.FileBench;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Workload (d): random reads at a queue depth on one file, each engine in turn, same file, block size, depth and CPUs.
const string Usage = """
    usage: LinuxEvent.FileBench --file PATH [--create] [--delete] [--engine fio,proactor,proactor-fixed,reactor,reactor-workers,randomaccess|all]
                                [--size 1g] [--bs 4k] [--depth 32] [--direct|--buffered] [--seconds 10] [--warmup 2]
                                [--workers N] [--no-inline]
      --create      write the file (pseudo-random data, --size bytes) if it is missing or has another size
      --delete      delete the file at the end
      --direct      O_DIRECT reads (default); --buffered: page-cache reads (the file is read once first to cache it)
      --workers N   the reactor's FileWorkerThreads (default 4); engine reactor-workers uses N = depth
      --no-inline   the reactor sends every read to its workers (no preadv2 RWF_NOWAIT fast path)
    Pin it: taskset -c 1 dotnet LinuxEvent.FileBench.dll ...  (fio is run under the same CPU list).
    Output: one 'filebench:' line per engine (IOPS, process CPU per I/O), then a markdown table with the ratios.
    """;

Options o;
try { o = Options.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine("filebench: " + e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

if (o.Create) BenchFile.Ensure(o.File, o.Size);
if (!File.Exists(o.File) || new FileInfo(o.File).Length < o.Size)
{
    Console.Error.WriteLine($"filebench: {o.File} is missing or shorter than {o.Size} bytes (use --create)");
    return 2;
}
if (!o.Direct) BenchFile.WarmPageCache(o.File, o.Size);
Console.Error.WriteLine($"filebench: cpus={CpuSet.Current()} processors={Environment.ProcessorCount} file={o.File} size={o.Size} direct={o.Direct}");

var results = new List<Result>();
var flags = FileOpenFlags.ReadOnly | (o.Direct ? FileOpenFlags.Direct : 0);
foreach (var engine in o.Engines)
{
    Result? r;
    switch (engine)
    {
        case "fio":
            r = FioEngine.Run(o);
            break;
        case "proactor":
        case "proactor-fixed":
        {
            // proactor-fixed: the lanes' AlignedBufferPool is registered (ProactorLoop.RegisterFileBuffers): READ_FIXED.
            using var loop = Loop.CreateProactor();
            int fd = Posix.Open(o.File, flags);
            try { r = LoopEngine.Run(loop, engine, o, fd, registerBuffers: engine == "proactor-fixed"); }
            finally { Posix.Close(fd); }
            break;
        }
        case "reactor":
        case "reactor-workers":
        {
            int workers = engine == "reactor" ? o.Workers : o.Depth;
            using var loop = Loop.CreateReactor(new ReactorOptions { FileWorkerThreads = workers, InlineCachedFileReads = o.InlineCachedReads });
            int fd = Posix.Open(o.File, flags);
            try { r = LoopEngine.Run(loop, engine, o, fd) with { Note = $"workers={workers} inline={(o.InlineCachedReads ? 1 : 0)}" }; }
            finally { Posix.Close(fd); }
            break;
        }
        default:
            r = RandomAccessEngine.Run(o, Posix.Open(o.File, flags));
            break;
    }
    if (r is null) continue;
    results.Add(r);
    Console.WriteLine(r.Line(o));
}

// The table for docs/benchmarks.md: absolute figures and the ratios the issue's targets are stated in.
var fio = results.FirstOrDefault(r => r.Engine == "fio-io_uring");
var ra = results.FirstOrDefault(r => r.Engine == "randomaccess");
Console.WriteLine();
Console.WriteLine("| engine | IOPS | CPU µs/IO | IOPS vs fio | CPU/IO vs fio | IOPS vs RandomAccess |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
foreach (var r in results)
{
    string Ratio(double a, double? b) => b is { } d && d > 0 ? (a / d).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {r.Engine}{(r.Note.Length > 0 ? " (" + r.Note + ")" : "")} | {r.Iops:F0} | {r.CpuMicrosPerIo:F2} | {Ratio(r.Iops, fio?.Iops)} | {Ratio(r.CpuMicrosPerIo, fio?.CpuMicrosPerIo)} | {Ratio(r.Iops, ra?.Iops)} |"));
}
if (o.Delete) File.Delete(o.File);
return 0;
