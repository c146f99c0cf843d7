// pipe-watch: readiness I/O on the reactor model — copy 1 MiB through a pipe with two watchers.
//
//   dotnet run examples/pipe-watch.cs
//
// A pipe holds 64 KiB, so neither side can finish in one go. The write end is watched for writability: its callback
// writes until the kernel says EAGAIN (pipe full) and returns; epoll calls it again when there is room. The read
// end is watched for readability: its callback drains the pipe until EAGAIN. When everything is written the writer
// cancels its watcher and closes the write end; the reader then sees end-of-file (read returns 0) and stops the loop.
// Posix.TryRead/TryWrite return bytes or -errno, so the callbacks need no exception handling. The demo ends by itself;
// SIGINT/SIGTERM stop it early (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

const int Total = 1 << 20;
var source = new byte[Total];
for (int i = 0; i < Total; i++) source[i] = (byte)(i * 31 + i / 251);

using var loop = Loop.CreateReactor();
loop.Signal(2, static (l, _) => l.Stop());
loop.Signal(15, static (l, _) => l.Stop());
var (readFd, writeFd) = Posix.Pipe(nonBlocking: true);
int written = 0, read = 0, writeCallbacks = 0, readCallbacks = 0, mismatches = 0;
var chunk = new byte[16 * 1024];

loop.Watch(writeFd, WatchOptions.Write, onReadable: null, onWritable: w =>
{
    writeCallbacks++;
    while (written < Total)
    {
        int n = Posix.TryWrite(w.Fd, source.AsSpan(written, Math.Min(chunk.Length, Total - written)));
        if (n == -Posix.EAGAIN) return;                      // pipe full: wait for the next writability report
        if (n < 0) throw new LinuxEventException(-n, "write(pipe)");
        written += n;
    }
    w.Cancel();                                              // done: stop watching, then close -> reader sees EOF
    Posix.Close(writeFd);
    Console.WriteLine($"writer: {written} bytes in {writeCallbacks} writable callbacks");
});

loop.Watch(readFd, WatchOptions.Read, onReadable: w =>
{
    readCallbacks++;
    while (true)
    {
        int n = Posix.TryRead(w.Fd, chunk);
        if (n == -Posix.EAGAIN) return;                      // drained: wait for the next readability report
        if (n < 0) throw new LinuxEventException(-n, "read(pipe)");
        if (n == 0)
        {
            Console.WriteLine($"reader: end of file after {read} bytes in {readCallbacks} readable callbacks, {mismatches} mismatched bytes");
            w.Cancel();
            loop.Stop();
            return;
        }
        for (int i = 0; i < n; i++) if (chunk[i] != source[read + i]) mismatches++;
        read += n;
    }
}, onWritable: null);

loop.Run();
Posix.Close(readFd);
bool stoppedBySignal = read < Total;
if (written < Total) Posix.Close(writeFd);                  // the writer had not finished (stopped by a signal)
return stoppedBySignal || mismatches == 0 ? 0 : 1;
