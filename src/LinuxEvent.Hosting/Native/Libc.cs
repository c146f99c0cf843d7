using System.Runtime.InteropServices;

namespace LinuxEvent.Hosting.Native;

/// <summary>The few libc calls socket activation needs that LinuxEvent's public <c>Posix</c> class does not offer.</summary>
internal static partial class Libc
{
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;
    public const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int UnsetEnv(string name);

    public static int LastErrno => Marshal.GetLastSystemError();
}
