// LinuxEvent.FanoutBench: pub/sub fan-out on LoopStream, the workload of issue 14's write-coalescing item.
//
//   LinuxEvent.FanoutBench server --model reactor|proactor --port P [--no-coalesce]
//   LinuxEvent.FanoutBench client -p PORT [-c SUBSCRIBERS=50] [-s BYTES=64] [-d WINDOW=64] [-t SECS=10] [-w WARMUP=0]
//
// Protocol, in lines: a connection's first line names its role. "S" subscribes (the server answers "K" once it is
// registered); "P" publishes: every line the publisher sends after it is written to every subscriber, in order, one
// WriteMessage each. Messages are SIZE bytes including the newline. The client's publisher keeps at most WINDOW messages
// ahead of the slowest subscriber; every delivered byte is checked against the published pattern. The client prints one
// key=value line (the shape LinuxEvent.Compare reads):
//
//   msgs_per_s (deliveries/s) published_per_s subs size window secs cli_cpu errors mode=fanout
using LinuxEvent.FanoutBench;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

try
{
    return args.Length > 0 && args[0] == "server" ? FanoutServer.Run(args[1..])
        : args.Length > 0 && args[0] == "client" ? FanoutClient.Run(args[1..])
        : throw new ArgumentException("the first argument is 'server' or 'client'");
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"LinuxEvent.FanoutBench: {ex.Message}");
    return 2;
}
