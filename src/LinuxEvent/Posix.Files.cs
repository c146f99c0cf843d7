using LinuxEvent.Files;
using LinuxEvent.Native;

namespace LinuxEvent;

public static unsafe partial class Posix
{
    /// <summary>
    /// Opens <paramref name="path"/> synchronously (openat(2) relative to the current directory, close-on-exec). For
    /// setup code and tools; on a loop, prefer <see cref="Loop.OpenAsync(string, FileOpenFlags, CancellationToken)"/>,
    /// which does not block the loop thread. A created file gets <paramref name="mode"/> minus the umask (default 0644).
    /// </summary>
    /// <returns>The new fd, owned by the caller.</returns>
    /// <exception cref="LinuxEventException">openat failed (ENOENT, EACCES, EISDIR, EINVAL for O_DIRECT where the file
    /// system has no support...).</exception>
    public static int Open(string path, FileOpenFlags flags, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead)
    {
        const string call = "Posix.Open";
        int oflags = FileOpenFlagsNative.ToNative(flags, call);
        var bytes = FileRequest.EncodePath(path, call);
        fixed (byte* p = bytes)
        {
            while (true)
            {
                int fd = Libc.OpenAt(Libc.AT_FDCWD, p, oflags, (int)mode);
                if (fd >= 0) return fd;
                int e = Libc.LastErrno;
                if (e == Errno.EINTR) continue;
                var r = new FileRequest();
                r.Reset(OperationKind.OpenAt, Libc.AT_FDCWD, call);
                r.PathText = path;
                r.Flags = oflags;
                throw FileErrors.Create(r, e);
            }
        }
    }
}
