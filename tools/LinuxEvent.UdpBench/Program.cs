using LinuxEvent.UdpBench;

// LinuxEvent.UdpBench: a UDP echo benchmark.
//   run     --impls reactor,proactor,dotnet [--reps 3] [--seconds 5] [--warmup 1] [--clients 32] [--depth 32]
//           [--size 32] [--server-cpu 0] [--client-cpu 1]          one table: datagrams/s and server CPU per datagram
//   server  --impl reactor|proactor|dotnet --port P [--concurrency 1]    an echo server until SIGTERM/SIGINT
//   client  --port P [--server-pid PID] [--clients 32] [--depth 32] [--size 32] [--seconds 5] [--warmup 1]
//           the load generator; prints one key=value line
// Exit codes: 0 ok, 1 failure, 2 bad arguments, 3 the model is unavailable here (io_uring disabled).
try
{
    if (args.Length == 0) return Usage();
    var options = new Options(args, 1);
    return args[0] switch
    {
        "server" => EchoServers.Run(options),
        "client" => LoadClient.Run(options),
        "run" => Orchestrator.Run(options),
        _ => Usage(),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"udpbench: {ex.Message}");
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: LinuxEvent.UdpBench run [--impls reactor,proactor,dotnet] [--reps 3] [--seconds 5] [--warmup 1] [--clients 32] [--depth 32] [--size 32] [--server-cpu 0] [--client-cpu 1]");
    Console.Error.WriteLine("       LinuxEvent.UdpBench server --impl reactor|proactor|dotnet --port P [--concurrency 1]");
    Console.Error.WriteLine("       LinuxEvent.UdpBench client --port P [--server-pid PID] [--clients 32] [--depth 32] [--size 32] [--seconds 5] [--warmup 1]");
    return 2;
}
