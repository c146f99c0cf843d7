using System.Runtime.InteropServices;

namespace LinuxEvent;

/// <summary>
/// errno values (asm-generic numbering, shared by x86-64 and arm64) and their names, for matching
/// <see cref="ILinuxEventError.Errno"/> and <see cref="OperationError.Errno"/> without magic numbers. Socket calls throw
/// <see cref="LinuxEventSocketException"/> (a <see cref="System.Net.Sockets.SocketException"/>), other calls
/// <see cref="LinuxEventException"/>; both carry the errno:
/// <c>catch (SocketException e) when (e is ILinuxEventError { Errno: Errno.ECONNRESET })</c>.
/// </summary>
public static class Errno
{
    /// <summary>The errno constants, named as in &lt;errno.h&gt;.</summary>
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8,
        EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17,
        EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25,
        ETXTBSY = 26, EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EMLINK = 31, EPIPE = 32, EDOM = 33,
        ERANGE = 34, EDEADLK = 35, ENAMETOOLONG = 36, ENOLCK = 37, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40,
        ENODATA = 61, ETIME = 62, EOVERFLOW = 75, EBADFD = 77, ENOTSOCK = 88, EDESTADDRREQ = 89, EMSGSIZE = 90,
        EPROTOTYPE = 91, ENOPROTOOPT = 92, EPROTONOSUPPORT = 93, EOPNOTSUPP = 95, EAFNOSUPPORT = 97,
        EADDRINUSE = 98, EADDRNOTAVAIL = 99, ENETDOWN = 100, ENETUNREACH = 101, ECONNABORTED = 103,
        ECONNRESET = 104, ENOBUFS = 105, EISCONN = 106, ENOTCONN = 107, ESHUTDOWN = 108, ETIMEDOUT = 110,
        ECONNREFUSED = 111, EHOSTUNREACH = 113, EALREADY = 114, EINPROGRESS = 115, ECANCELED = 125;

    private static readonly Dictionary<int, string> Names = new()
    {
        [EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR", [EIO] = "EIO",
        [ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC", [EBADF] = "EBADF", [ECHILD] = "ECHILD",
        [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM", [EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
        [EEXIST] = "EEXIST", [EXDEV] = "EXDEV", [ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR",
        [EINVAL] = "EINVAL", [ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY", [ETXTBSY] = "ETXTBSY",
        [EFBIG] = "EFBIG", [ENOSPC] = "ENOSPC", [ESPIPE] = "ESPIPE", [EROFS] = "EROFS", [EMLINK] = "EMLINK",
        [EPIPE] = "EPIPE", [EDOM] = "EDOM", [ERANGE] = "ERANGE", [EDEADLK] = "EDEADLK",
        [ENAMETOOLONG] = "ENAMETOOLONG", [ENOLCK] = "ENOLCK", [ENOSYS] = "ENOSYS", [ENOTEMPTY] = "ENOTEMPTY",
        [ELOOP] = "ELOOP", [ENODATA] = "ENODATA", [ETIME] = "ETIME", [EOVERFLOW] = "EOVERFLOW", [EBADFD] = "EBADFD",
        [ENOTSOCK] = "ENOTSOCK", [EDESTADDRREQ] = "EDESTADDRREQ", [EMSGSIZE] = "EMSGSIZE",
        [EPROTOTYPE] = "EPROTOTYPE", [ENOPROTOOPT] = "ENOPROTOOPT", [EPROTONOSUPPORT] = "EPROTONOSUPPORT",
        [EOPNOTSUPP] = "EOPNOTSUPP", [EAFNOSUPPORT] = "EAFNOSUPPORT", [EADDRINUSE] = "EADDRINUSE",
        [EADDRNOTAVAIL] = "EADDRNOTAVAIL", [ENETDOWN] = "ENETDOWN", [ENETUNREACH] = "ENETUNREACH",
        [ECONNABORTED] = "ECONNABORTED", [ECONNRESET] = "ECONNRESET", [ENOBUFS] = "ENOBUFS", [EISCONN] = "EISCONN",
        [ENOTCONN] = "ENOTCONN", [ESHUTDOWN] = "ESHUTDOWN", [ETIMEDOUT] = "ETIMEDOUT",
        [ECONNREFUSED] = "ECONNREFUSED", [EHOSTUNREACH] = "EHOSTUNREACH", [EALREADY] = "EALREADY",
        [EINPROGRESS] = "EINPROGRESS", [ECANCELED] = "ECANCELED",
    };

    /// <summary>The symbolic name, or <c>E&lt;n&gt;</c> for numbers not in the table.</summary>
    public static string Name(int errno) => Names.TryGetValue(errno, out var n) ? n : "E" + errno.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The C library's strerror text (thread-safe variant).</summary>
    public static string Message(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
