using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace LinuxEvent;

/// <summary>
/// The throws of the hot paths, out of line: a method that only calls a [DoesNotReturn] helper stays small enough
/// to inline, and the exception messages are written once.
/// </summary>
internal static class ThrowHelper
{
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NegativeFd(string call, int fd, string paramName = "fd")
        => throw new ArgumentOutOfRangeException(paramName, fd, $"{call}: the fd must not be negative.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void WrongThread(string call)
        => throw new InvalidOperationException($"{call} must be called on the loop thread (the loop is running on another thread); use Loop.Post to hand work to the loop.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static InvalidOperationException SideBusy(string call, int fd, bool reading)
        => new($"{call}: another {(reading ? "read-side" : "write-side")} async operation is already pending on fd {fd}; await it first.");

    /// <summary>The error of an I/O call: a <see cref="LinuxEventSocketException"/> for a socket call, else a
    /// <see cref="LinuxEventException"/>, named after the syscall.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Exception IoError(OperationKind kind, int fd, int errno)
        => LinuxEventException.Create(errno, Seam.IoNames.Call(kind, fd), Seam.IoNames.IsSocketCall(kind));

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ObjectDisposedException LoopDisposedDuringOperation(Loop loop)
        => new(loop.GetType().Name, "The loop was disposed while the operation was pending.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ObjectDisposedException RegistrationDisposedDuringOperation(int fd)
        => new(nameof(LoopFd), $"LoopFd(fd={fd}) was disposed while the operation was pending.");
}
