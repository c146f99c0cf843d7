namespace LinuxEvent.Compare;

/// <summary>A bad command line or a missing prerequisite: reported in one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
