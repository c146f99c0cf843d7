namespace LinuxEvent.Net;

/// <summary>What a child's stdin, stdout or stderr is connected to.</summary>
public enum StdioMode
{
    /// <summary>A pipe to this process, wrapped in a <see cref="LoopStream"/> (<see cref="ChildProcess.Stdin"/> etc.).</summary>
    Pipe,
    /// <summary>The same fd this process has (0, 1 or 2).</summary>
    Inherit,
    /// <summary><c>/dev/null</c>.</summary>
    Null,
}
