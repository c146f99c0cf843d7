// LinuxEvent.Load: single-threaded, verifying TCP echo load generator on LinuxEvent's reactor (epoll), raw
// non-blocking sockets: the C# fallback of tools/baselines/loadgen.c, with the same options, the same byte stream
// and the same output line, so ci/bench.sh can use either.
//
//   LinuxEvent.Load -p PORT [-c CONNS=50] [-s BYTES=64] [-d DEPTH=1] [-t SECS=10] [-w WARMUP=0] [-r RATE=0] [-h 127.x.x.x]
//
// Closed loop (RATE 0): each connection keeps DEPTH messages in flight. Open loop (-r RATE msgs/s over all
// connections): message g is scheduled at start + g/RATE on connection g mod CONNS, and its latency runs from that
// scheduled time (no coordinated omission). Every echoed byte is checked. Output, one key=value line:
//
//   msgs_per_s MBps p50_us p90_us p99_us p999_us max_us conns size depth secs minconn_msgs cli_cpu errors mode
//   gen0 alloc_bytes (this process's GC count and allocation in the window)
//   (open loop also) rate lag_p99_us lag_max_us unfinished
//
// Exit 1 on mismatch, early close, extra bytes or connect failure (the line then says errors=1); 2 on bad arguments.
using LinuxEvent.Load;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

Options o;
try
{
    o = Options.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"LinuxEvent.Load: {ex.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
if (o.Help)
{
    Console.Out.WriteLine(Options.Usage);
    return 0;
}
return new LoadGenerator(o).Run();
