namespace LinuxEvent.Net;

/// <summary>What to run. Immutable once started.</summary>
public sealed class ProcessSpec
{
    /// <summary>Creates a spec for <paramref name="program"/> (searched in PATH unless it contains '/').</summary>
    public ProcessSpec(string program, params IReadOnlyList<string> arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        Program = program;
        Arguments = arguments ?? [];
    }

    /// <summary>The program (argv[0]).</summary>
    public string Program { get; }

    /// <summary>argv[1..].</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Variables set in the child on top of the base environment; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Start from an empty environment instead of this process's (then only <see cref="Environment"/> applies).</summary>
    public bool ClearEnvironment { get; init; }

    /// <summary>The child's working directory (null: this process's).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>stdin (default <see cref="StdioMode.Null"/>, so a child never waits for input nobody sends).</summary>
    public StdioMode Stdin { get; init; } = StdioMode.Null;

    /// <summary>stdout (default <see cref="StdioMode.Pipe"/>).</summary>
    public StdioMode Stdout { get; init; } = StdioMode.Pipe;

    /// <summary>stderr (default <see cref="StdioMode.Pipe"/>).</summary>
    public StdioMode Stderr { get; init; } = StdioMode.Pipe;

    /// <summary>Run time after which the child gets <see cref="TimeoutSignal"/>, then SIGKILL after
    /// <see cref="KillGracePeriod"/> if it is still alive. Null: no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The first signal on timeout (default SIGTERM, 15).</summary>
    public int TimeoutSignal { get; init; } = 15;

    /// <summary>Time between the timeout signal and SIGKILL (default 5 s).</summary>
    public TimeSpan KillGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Put the child in its own process group.</summary>
    public bool NewProcessGroup { get; init; }

    /// <summary>
    /// The child's file-mode creation mask (umask(2)), e.g. <c>UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | ...</c>
    /// for 027; null (the default) inherits this process's. posix_spawn has no umask attribute and changing this
    /// process's mask around the spawn would race with every other thread, so the child is started through
    /// <c>/bin/sh -c 'umask NNN; exec "$0" "$@"'</c>, which sets it and then becomes the program (same pid, same argv).
    /// </summary>
    public UnixFileMode? Umask { get; init; }

    /// <summary>Options of the pipe streams (watermarks, codec, buffer size). The fd kind and ownership are forced
    /// (pipes, owned).</summary>
    public LoopStreamOptions? StreamOptions { get; init; }
}
