using System.Net.Sockets;

namespace LinuxEvent;

/// <summary>errno to <see cref="SocketError"/>, for <see cref="LinuxEventSocketException"/> (the meanings are those of
/// errno(3) and socket(7); the Windows-style names are .NET's).</summary>
internal static class SocketErrors
{
    public static SocketError FromErrno(int errno) => errno switch
    {
        0 => SocketError.Success,
        Errno.EINTR => SocketError.Interrupted,
        Errno.EBADF => SocketError.OperationAborted,
        Errno.EACCES or Errno.EPERM => SocketError.AccessDenied,
        Errno.EFAULT => SocketError.Fault,
        Errno.EINVAL => SocketError.InvalidArgument,
        Errno.EMFILE or Errno.ENFILE => SocketError.TooManyOpenSockets,
        Errno.EAGAIN => SocketError.WouldBlock,
        Errno.EINPROGRESS => SocketError.InProgress,
        Errno.EALREADY => SocketError.AlreadyInProgress,
        Errno.ENOTSOCK => SocketError.NotSocket,
        Errno.EDESTADDRREQ => SocketError.DestinationAddressRequired,
        Errno.EMSGSIZE => SocketError.MessageSize,
        Errno.EPROTOTYPE => SocketError.ProtocolType,
        Errno.ENOPROTOOPT => SocketError.ProtocolOption,
        Errno.EPROTONOSUPPORT => SocketError.ProtocolNotSupported,
        Errno.EOPNOTSUPP => SocketError.OperationNotSupported,
        Errno.EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
        Errno.EADDRINUSE => SocketError.AddressAlreadyInUse,
        Errno.EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        Errno.ENETDOWN => SocketError.NetworkDown,
        Errno.ENETUNREACH => SocketError.NetworkUnreachable,
        Errno.ECONNABORTED => SocketError.ConnectionAborted,
        Errno.ECONNRESET => SocketError.ConnectionReset,
        Errno.ENOBUFS or Errno.ENOMEM => SocketError.NoBufferSpaceAvailable,
        Errno.EISCONN => SocketError.IsConnected,
        Errno.ENOTCONN => SocketError.NotConnected,
        Errno.EPIPE or Errno.ESHUTDOWN => SocketError.Shutdown,
        Errno.ETIMEDOUT => SocketError.TimedOut,
        Errno.ECONNREFUSED => SocketError.ConnectionRefused,
        112 => SocketError.HostDown,                  // EHOSTDOWN
        Errno.EHOSTUNREACH => SocketError.HostUnreachable,
        Errno.ECANCELED => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };
}
