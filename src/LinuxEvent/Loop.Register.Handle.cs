using System.Runtime.InteropServices;

namespace LinuxEvent;

public abstract partial class Loop
{
    /// <summary>
    /// Registers the fd held by <paramref name="handle"/> (e.g. a <c>Socket.SafeHandle</c>) as
    /// <see cref="Register(int, bool)"/> does, and keeps the handle alive while registered: a reference is taken on it
    /// (<see cref="SafeHandle.DangerousAddRef"/>), so disposing the handle elsewhere only marks it, and the fd closes
    /// when the registration lets go, never under a pending operation.
    /// </summary>
    /// <param name="handle">An open handle whose value is a non-blocking, pollable fd.</param>
    /// <param name="ownsHandle">True to hand the handle over: <see cref="LoopFd.Dispose"/> (or the loop's disposal)
    /// then disposes it. False: the registration only drops its reference and the handle stays the caller's. The fd is
    /// never closed by number.</param>
    /// <exception cref="ObjectDisposedException">The handle is closed, or the loop is disposed.</exception>
    /// <exception cref="ArgumentException">The handle is invalid or its value is not an fd.</exception>
    /// <remarks>The other exceptions are those of <see cref="Register(int, bool)"/>; on any failure the reference is
    /// dropped and the handle stays the caller's, as it was. (A separate name rather than a <c>Register</c> overload, so
    /// that the many <c>cref="Loop.Register"</c> references in the docs stay unambiguous.)</remarks>
    public LoopFd RegisterHandle(SafeHandle handle, bool ownsHandle = false)
    {
        const string call = "Loop.RegisterHandle";
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.IsClosed) throw new ObjectDisposedException(handle.GetType().Name, $"{call}: the handle is closed.");
        if (handle.IsInvalid) throw new ArgumentException($"{call}: the handle is invalid.", nameof(handle));
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            long raw = handle.DangerousGetHandle();
            if (raw is < 0 or > int.MaxValue) throw new ArgumentException($"{call}: the handle's value ({raw}) is not an fd.", nameof(handle));
            var registration = Register((int)raw, ownsFd: false);
            registration.HoldHandle(handle, ownsHandle);
            return registration;
        }
        catch
        {
            if (added) handle.DangerousRelease();
            throw;
        }
    }
}
