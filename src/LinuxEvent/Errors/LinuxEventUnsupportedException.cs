namespace LinuxEvent;

/// <summary>Thrown when the kernel lacks, or policy disables, a feature a backend needs (e.g. io_uring).</summary>
public sealed class LinuxEventUnsupportedException : LinuxEventException
{
    /// <summary>Creates the exception.</summary>
    public LinuxEventUnsupportedException(int errno, string call, string detail) : base(errno, call, detail) { }
}
