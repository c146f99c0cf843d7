using LinuxEvent.Files;
using LinuxEvent.Reactor;

namespace LinuxEvent.Tests;

/// <summary>
/// Runs the file contract the same way on every backend. Real backends do real I/O on files in a private temp
/// directory. On the fakes nothing reaches the kernel by itself: <see cref="Serve"/> plays the kernel, taking each
/// pending file operation as the fake shows it (kind, fd, offset, length, path, buffers), performing that syscall
/// synchronously and scripting its outcome back through the fake's public controls. So a contract test asserts the
/// same results on all four backends, and on the fakes it also proves that every argument crossed the seam intact.
/// </summary>
internal sealed class FileScript : IDisposable
{
    private readonly Loop _loop;
    private readonly List<int> _fds = new();

    public FileScript(Loop loop)
    {
        _loop = loop;
        Dir = Directory.CreateTempSubdirectory("linuxevent-files-").FullName;
    }

    public string Dir { get; }

    public string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Creates <paramref name="name"/> with <paramref name="content"/> and opens it (closed by Dispose).</summary>
    public int CreateFile(string name, byte[] content, FileOpenFlags flags = FileOpenFlags.ReadWrite)
    {
        File.WriteAllBytes(PathOf(name), content);
        return Track(Posix.Open(PathOf(name), flags));
    }

    /// <summary>Makes <paramref name="fd"/> closed by Dispose.</summary>
    public int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    /// <summary>Pending file operations on a fake (0 on real backends).</summary>
    public int PendingCount => _loop switch
    {
        ProactorLoop { Fake: { } f } => f.Pending.Count,
        ReactorLoop { Fake: { } f } => f.PendingFileOperations.Count,
        _ => 0,
    };

    /// <summary>On a fake: performs every pending file operation for real and scripts its outcome. No-op otherwise.</summary>
    public void Serve()
    {
        switch (_loop)
        {
            case ProactorLoop { Fake: { } fake }:
                foreach (var op in fake.Pending.ToArray())
                {
                    int res;
                    if (op.File is { } r) res = Perform(r);
                    else if (op.Kind == OperationKind.Close) res = Native.Libc.Close(op.FileDescriptor) == 0 ? 0 : -Native.Libc.LastErrno;
                    else continue;      // not a file operation: the test scripts it
                    if (res < 0) fake.Fail(op, -res); else fake.Complete(op, res);
                }
                break;
            case ReactorLoop { Fake: { } fake }:
                foreach (var op in fake.PendingFileOperations.ToArray())
                {
                    int res = Perform(op.Request!);
                    if (res < 0) fake.Fail(op, -res); else fake.Complete(op, res);
                }
                break;
        }
    }

    private static int Perform(FileRequest r)
    {
        r.Pin();
        try { return FileSyscalls.Run(r); }
        finally { r.Unpin(); }
    }

    /// <summary>Runs the loop (serving fakes) until <paramref name="task"/> completes; bounded.</summary>
    public void RunUntil(Task task, double seconds = 10) => RunUntil(() => task.IsCompleted, seconds);

    public void RunUntil(Func<bool> done, double seconds = 10)
        => _loop.RunUntil(() => { Serve(); return done(); }, TimeSpan.FromSeconds(seconds));

    /// <summary>Awaits <paramref name="task"/> by running the loop, then returns its result (or throws its exception).</summary>
    public T Wait<T>(ValueTask<T> task)
    {
        var t = task.AsTask();
        RunUntil(t);
        return t.GetAwaiter().GetResult();
    }

    public void Wait(ValueTask task)
    {
        var t = task.AsTask();
        RunUntil(t);
        t.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        foreach (int fd in _fds) Posix.CloseQuietly(fd);
        Directory.Delete(Dir, recursive: true);
    }
}
