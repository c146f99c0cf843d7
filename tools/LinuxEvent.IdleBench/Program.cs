// LinuxEvent.IdleBench: how much server memory an idle TCP connection costs (issue 14).
//
//   LinuxEvent.IdleBench [--servers chat-server,mini-redis,http-server,echo-server,sockets-echo]
//                        [--models reactor,proactor] [--connections 10000,15000] [--exchange hello|none]
//                        [--warmup 500] [--repo DIR] [--out FILE.md]
//   LinuxEvent.IdleBench client --port P --connections N --exchange KIND     (the client process; started by the above)
//
// For each server, model and connection count: start the server, warm it up (W connections that do one exchange and
// close), read its RSS, open N connections from a separate client process (this machine caps a process at 20,000
// fds, so server and client cannot share one), let each do one request/response exchange and then stay idle, wait
// until the server holds them all and its RSS settles, read the RSS again, and report (after - before) ÷ N. Then the
// client resets every connection (SO_LINGER 0: no TIME_WAIT, so runs do not exhaust the ephemeral ports) and the
// server is stopped with SIGTERM. ci/bench-idle.sh builds the servers and runs this.
using LinuxEvent.IdleBench;

try
{
    if (args.Length > 0 && args[0] == "client") return await IdleClient.RunAsync(args.AsSpan(1).ToArray());
    var options = BenchOptions.Parse(args);
    if (options is null) return 0;
    return new IdleRunner(options, Console.Out).RunAll();
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"idle-bench: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
