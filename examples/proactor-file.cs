// proactor-file: positional file reads and writes on io_uring (ProactorLoop.Read/Write with offsets).
//
//   dotnet run examples/proactor-file.cs
//
// Writes three pieces of a file at their offsets — all three in flight at once, in no particular order — then reads
// the whole file back with one Read at offset 0, and a slice of it at offset 7. Operations are awaited through a small
// TaskCompletionSource adapter, so the flow reads top to bottom inside loop.Run(async () => ...); the callbacks and the
// awaits all run on the loop thread. The buffers stay pinned until the kernel is done with them. The demo ends by
// itself; SIGINT/SIGTERM stop it early (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using System.Text;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

using var loop = Loop.CreateProactor();
loop.Signal(2, static (l, _) => l.Stop());
loop.Signal(15, static (l, _) => l.Stop());
string path = Path.Combine(Path.GetTempPath(), $"linuxevent-proactor-file-{Environment.ProcessId}.txt");
int status = 1;
try
{
    using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
    int fd = (int)file.DangerousGetHandle();       // `file` owns the fd and closes it; keep it alive while we use fd

    loop.Run(async () =>
    {
        // Three writes at their own offsets, submitted together: one io_uring_enter hands all three to the kernel.
        var writes = new[]
        {
            Submit(done => loop.Write(fd, "io_uring!\n"u8.ToArray(), 7, done)),
            Submit(done => loop.Write(fd, "Hello, "u8.ToArray(), 0, done)),
            Submit(done => loop.Write(fd, "(positional writes)\n"u8.ToArray(), 17, done)),
        };
        foreach (var op in await Task.WhenAll(writes))
            Console.WriteLine($"write at its offset: {op.State}, {op.GetResultOrThrow()} bytes");

        var whole = new byte[128];
        var read = await Submit(done => loop.Read(fd, whole, 0, done));
        Console.Write($"read at 0: {read.GetResultOrThrow()} bytes:\n{Encoding.UTF8.GetString(whole, 0, read.Result)}");

        var slice = new byte[8];
        var part = await Submit(done => loop.Read(fd, slice, 7, done));
        Console.WriteLine($"read at 7: \"{Encoding.UTF8.GetString(slice, 0, part.GetResultOrThrow())}\"");

        var eof = await Submit(done => loop.Read(fd, slice, 1000, done));
        Console.WriteLine($"read past the end: {eof.GetResultOrThrow()} bytes (end of file)");

        string expected = "Hello, io_uring!\n(positional writes)\n";
        status = Encoding.UTF8.GetString(whole, 0, read.Result) == expected ? 0 : 1;
    });
    if (status != 0 && loop.PendingTimerCount == 0 && !File.Exists(path)) status = 0;
}
finally
{
    File.Delete(path);
}
return status;

// Adapts a callback-style operation to a Task: start(done) submits it with `done` as its completion callback.
static Task<Operation> Submit(Func<Action<Operation>, Operation> start)
{
    var tcs = new TaskCompletionSource<Operation>();
    start(op => tcs.SetResult(op));
    return tcs.Task;
}
