// LinuxEvent.FaultClient: the verifying client of the fault checks. Plain System.Net.Sockets (not the library under
// test), two threads per connection, every reply byte checked against the request it answers.
//
//   soak     --protocol echo|redis|http --port P [--host 127.0.0.1] [--connections 4] [--depth 4] [--seconds 5]
//            [--max-size 16384] [--seed 1] [--timeout-s 30]
//     Traffic for --seconds, then every outstanding reply, then each connection half-closes and must see the server
//     close it. Fails on any wrong, missing or extra byte, a reset, or a reply slower than --timeout-s.
//
//   graceful --protocol echo|redis|http --port P --server-pid PID [--connections 8] [--depth 4] [--warmup-ms 300] ...
//     Traffic on every connection; after --warmup-ms (and a reply on each connection) sends SIGTERM to PID while
//     requests are in flight and probes the listening port until a connect is refused. Passes when every request
//     fully sent before the last successful probe began (so before the listening socket closed) got its complete,
//     correct reply, and no reply was wrong.
//
// Last line: "faultclient: MODE protocol=... conns=N sent=N answered=N ... errors=N" and exit code 0 (pass) or 1.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using LinuxEvent.FaultClient;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

Options o;
try
{
    o = Options.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"faultclient: {ex.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}
return o.Mode == "soak" ? Runs.Soak(o) : Runs.Graceful(o);

namespace LinuxEvent.FaultClient
{
    internal sealed class Options
    {
        public const string Usage =
            "usage: LinuxEvent.FaultClient soak|graceful --protocol echo|redis|http --port P [--host H] [--connections N]\n" +
            "       [--depth D] [--seconds S] [--max-size B] [--seed N] [--timeout-s S] [--server-pid PID] [--warmup-ms MS]";

        public string Mode = "";
        public string Protocol = "echo";
        public string Host = "127.0.0.1";
        public int Port, Connections = 4, Depth = 4, MaxSize = 16 * 1024, Seed = 1, ServerPid, WarmupMs = 300;
        public double Seconds = 5, TimeoutSeconds = 30;

        public static Options Parse(string[] args)
        {
            if (args.Length == 0 || args[0] is not ("soak" or "graceful")) throw new ArgumentException("the first argument is the mode: soak or graceful");
            var o = new Options { Mode = args[0] };
            for (int i = 1; i < args.Length; i++)
            {
                string a = args[i];
                string v = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
                int Int(int min) => int.TryParse(v, out int x) && x >= min ? x : throw new ArgumentException($"bad {a} '{v}'");
                double Num() => double.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out double x) && x > 0 ? x : throw new ArgumentException($"bad {a} '{v}'");
                switch (a)
                {
                    case "--protocol": o.Protocol = v is "echo" or "redis" or "http" ? v : throw new ArgumentException($"unknown protocol '{v}'"); break;
                    case "--host": o.Host = v; break;
                    case "--port": o.Port = Int(1); break;
                    case "--connections": o.Connections = Int(1); break;
                    case "--depth": o.Depth = Int(1); break;
                    case "--seconds": o.Seconds = Num(); break;
                    case "--max-size": o.MaxSize = Int(1); break;
                    case "--seed": o.Seed = Int(0); break;
                    case "--timeout-s": o.TimeoutSeconds = Num(); break;
                    case "--server-pid": o.ServerPid = Int(2); break;
                    case "--warmup-ms": o.WarmupMs = Int(0); break;
                    default: throw new ArgumentException($"unknown argument '{a}'");
                }
            }
            if (o.Port == 0) throw new ArgumentException("--port is required");
            if (o.Mode == "graceful" && o.ServerPid == 0) throw new ArgumentException("graceful needs --server-pid");
            return o;
        }
    }

    internal static class Runs
    {
        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int signal);

        private static List<ClientConnection> ConnectAll(Options o, bool keepRequests)
        {
            var server = new IPEndPoint(IPAddress.Parse(o.Host), o.Port);
            var connections = new List<ClientConnection>();
            try
            {
                for (int i = 0; i < o.Connections; i++)
                    connections.Add(ClientConnection.Connect(i, server, Protocol.Create(o.Protocol, o.Seed * 1000 + i, o.MaxSize), o.Depth,
                        keepRequests, TimeSpan.FromSeconds(o.TimeoutSeconds)));
                return connections;
            }
            catch
            {
                foreach (var c in connections) c.Dispose();
                throw;
            }
        }

        private static string Totals(List<ClientConnection> cs) =>
            $"conns={cs.Count} sent={cs.Sum(c => c.Sent)} answered={cs.Sum(c => c.Answered)} " +
            $"bytes_out={cs.Sum(c => c.BytesSent)} bytes_in={cs.Sum(c => c.BytesReceived)}";

        public static int Soak(Options o)
        {
            var sw = Stopwatch.StartNew();
            List<ClientConnection> cs;
            try { cs = ConnectAll(o, keepRequests: false); }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                Console.WriteLine($"faultclient: soak protocol={o.Protocol} connect failed: {ex.Message} errors=1");
                return 1;
            }
            try
            {
                foreach (var c in cs) c.Start();
                Thread.Sleep(TimeSpan.FromSeconds(o.Seconds));              // the workload's duration, not a wait for an event
                foreach (var c in cs) c.StopSending(halfClose: true);
                var hung = cs.Where(c => !c.Join(TimeSpan.FromSeconds(o.TimeoutSeconds + 5))).Select(c => c.Id).ToList();
                var errors = cs.Where(c => c.Error is not null).Select(c => c.Error!).ToList();
                if (hung.Count > 0) errors.Add($"connections {string.Join(",", hung)} did not finish");
                foreach (var e in errors) Console.Error.WriteLine($"faultclient: {e}");
                Console.WriteLine($"faultclient: soak protocol={o.Protocol} {Totals(cs)} secs={sw.Elapsed.TotalSeconds:0.0} errors={errors.Count}");
                return errors.Count == 0 ? 0 : 1;
            }
            finally
            {
                foreach (var c in cs) c.Dispose();
            }
        }

        public static int Graceful(Options o)
        {
            List<ClientConnection> cs;
            try { cs = ConnectAll(o, keepRequests: true); }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                Console.WriteLine($"faultclient: graceful protocol={o.Protocol} connect failed: {ex.Message} errors=1");
                return 1;
            }
            var errors = new List<string>();
            try
            {
                foreach (var c in cs) { c.CloseIsExpected = true; c.Start(); }
                // Load first: every connection has had replies, and the warm-up time has passed.
                long warmupEnd = Environment.TickCount64 + o.WarmupMs, giveUp = Environment.TickCount64 + (long)(o.TimeoutSeconds * 1000);
                while ((Environment.TickCount64 < warmupEnd || cs.Any(c => Interlocked.Read(ref c.Answered) < 2)) && Environment.TickCount64 < giveUp
                       && cs.All(c => c.End is null && c.Error is null))
                    Thread.Sleep(5);
                if (cs.Any(c => c.End is not null || c.Error is not null || Interlocked.Read(ref c.Answered) < 2))
                {
                    errors.Add("the server did not serve every connection before SIGTERM: " +
                        string.Join("; ", cs.Select(c => c.Error ?? (c.End is null ? null : $"connection {c.Id} ended ({c.End})")).Where(e => e is not null)));
                }
                // SIGTERM goes out while requests are outstanding (a busy machine can leave every writer waiting for a
                // CPU for a moment, with every reply already in).
                long spinUntil = Environment.TickCount64 + 2000;
                while (cs.Sum(c => Interlocked.Read(ref c.Started) - Interlocked.Read(ref c.Answered)) == 0 && Environment.TickCount64 < spinUntil) Thread.SpinWait(50);
                long termAt = Stopwatch.GetTimestamp();
                if (kill(o.ServerPid, 15) != 0) errors.Add($"kill({o.ServerPid}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
                var (openUntil, refusedAt) = ProbeUntilRefused(new IPEndPoint(IPAddress.Parse(o.Host), o.Port), termAt, TimeSpan.FromSeconds(o.TimeoutSeconds));
                if (refusedAt == 0) errors.Add($"the listening socket still accepted connections {o.TimeoutSeconds} s after SIGTERM");
                // The server closes every connection once it has answered what it received; give it the timeout.
                var hung = cs.Where(c => !c.Join(TimeSpan.FromSeconds(o.TimeoutSeconds))).Select(c => c.Id).ToList();
                if (hung.Count > 0) errors.Add($"connections {string.Join(",", hung)} were not closed by the server within {o.TimeoutSeconds} s");
                errors.AddRange(cs.Where(c => c.Error is not null).Select(c => c.Error!));

                long due = 0, dueAnswered = 0, late = 0, lateAnswered = 0, inFlightAtTerm = 0;
                foreach (var c in cs)
                {
                    Request[] requests;
                    lock (c.Requests) requests = c.Requests.ToArray();
                    foreach (var r in requests)
                    {
                        long sentAt = Volatile.Read(ref r.SentAt);
                        bool answered = r.AnsweredAt != 0;
                        if (r.SendStartedAt < termAt && (!answered || r.AnsweredAt > termAt)) inFlightAtTerm++;
                        if (sentAt != 0 && sentAt < openUntil)
                        {
                            due++;
                            if (answered) dueAnswered++;
                            else if (errors.Count < 20) errors.Add($"connection {c.Id}: request {r.Index} was sent before the listening socket closed and got " +
                                (r.Reply.Started ? "a partial reply" : "no reply") + $" (the connection ended: {c.End ?? "no"})");
                        }
                        else
                        {
                            late++;
                            if (answered) lateAnswered++;
                        }
                    }
                }
                foreach (var e in errors) Console.Error.WriteLine($"faultclient: {e}");
                double ms(long ticks) => ticks == 0 ? -1 : (ticks - termAt) * 1000.0 / Stopwatch.Frequency;
                Console.WriteLine($"faultclient: graceful protocol={o.Protocol} {Totals(cs)} in_flight_at_sigterm={inFlightAtTerm} " +
                    $"due={due} due_answered={dueAnswered} after_close={late} after_close_answered={lateAnswered} " +
                    $"listener_open_ms={ms(openUntil):0.0} refused_ms={ms(refusedAt):0.0} ends={string.Join(",", cs.Select(c => c.End ?? "-"))} errors={errors.Count}");
                if (inFlightAtTerm == 0 && errors.Count == 0)
                {
                    Console.Error.WriteLine("faultclient: no request was in flight at SIGTERM: the check proved nothing");
                    return 1;
                }
                return errors.Count == 0 ? 0 : 1;
            }
            finally
            {
                foreach (var c in cs) c.Dispose();
            }
        }

        /// <summary>
        /// Connects to the listening port every few milliseconds until a connect is refused. Returns when the last
        /// successful probe started (the listening socket was open at that moment) and when the first refusal came
        /// (0 if none within the timeout). The socket was open when SIGTERM was sent (<paramref name="termAt"/>): the
        /// servers close it only when told to stop.
        /// </summary>
        private static (long OpenUntil, long RefusedAt) ProbeUntilRefused(IPEndPoint server, long termAt, TimeSpan timeout)
        {
            long openUntil = termAt;
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (Environment.TickCount64 < deadline)
            {
                long startedAt = Stopwatch.GetTimestamp();
                using var probe = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    using var cts = new CancellationTokenSource(2000);
                    probe.ConnectAsync(server, cts.Token).AsTask().GetAwaiter().GetResult();
                    openUntil = startedAt;
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    return (openUntil, Stopwatch.GetTimestamp());
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    // A probe lost in a full backlog: not a refusal, try again.
                }
                // ~0.25 ms between probes: the moment the socket closed is known that precisely, and the server's
                // backlog is not flooded.
                for (long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 4000; Stopwatch.GetTimestamp() < until;) Thread.SpinWait(20);
            }
            return (openUntil, 0);
        }
    }
}
