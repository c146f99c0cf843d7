namespace LinuxEvent;

/// <summary>Thrown when the kernel lacks, or policy disables, a feature a backend needs (e.g. io_uring).</summary>
public sealed class LinuxEventUnsupportedException : LinuxEventException
{
    /// <summary>Creates the exception.</summary>
    public LinuxEventUnsupportedException(int errno, string call, string detail) : base(errno, call, detail) { }

    /// <summary>Creates an exception for an unknown missing feature (for serializers and tests).</summary>
    public LinuxEventUnsupportedException() : base("A kernel feature LinuxEvent needs is missing or disabled.") { }

    /// <summary>Creates an exception with <paramref name="message"/> and no errno.</summary>
    public LinuxEventUnsupportedException(string message) : base(message) { }

    /// <summary>Creates an exception with <paramref name="message"/> wrapping <paramref name="innerException"/>, with no errno.</summary>
    public LinuxEventUnsupportedException(string message, Exception? innerException) : base(message, innerException) { }
}
