using System.Globalization;
using LinuxEvent.Hosting.Native;

namespace LinuxEvent.Hosting.Systemd;

/// <summary>
/// systemd socket activation, as sd_listen_fds_with_names(3) does it with <c>unset_environment</c> set: the passed
/// fds start at 3 (<c>SD_LISTEN_FDS_START</c>), count <c>LISTEN_FDS</c>, belong to us only when <c>LISTEN_PID</c> is
/// our pid, are named by <c>LISTEN_FDNAMES</c> (colon-separated), are made close-on-exec, and the three variables
/// are removed from the environment whatever the outcome, so child processes never see fds meant for us.
/// </summary>
internal static class SocketActivation
{
    public const int ListenFdsStart = 3;

    /// <summary>The parsed variables: how many fds and their names; zero fds when they are not for us.</summary>
    internal readonly record struct Passed(int Count, string[] Names);

    /// <summary>
    /// Reads the variables, validates them against <paramref name="pid"/> and returns the fd count and names.
    /// Not for us (no LISTEN_PID, another pid): zero fds, as sd_listen_fds returns 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">LISTEN_PID or LISTEN_FDS is malformed, or LISTEN_FDNAMES does not name
    /// every fd (sd_listen_fds_with_names fails with EINVAL in those cases).</exception>
    internal static Passed Parse(string? listenPid, string? listenFds, string? listenFdNames, int pid)
    {
        if (string.IsNullOrEmpty(listenPid)) return new(0, []);
        if (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out int forPid) || forPid <= 0)
            throw new InvalidOperationException($"Socket activation: LISTEN_PID='{listenPid}' is not a process id.");
        if (forPid != pid) return new(0, []);
        if (string.IsNullOrEmpty(listenFds)) return new(0, []);
        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count > 4096)
            throw new InvalidOperationException($"Socket activation: LISTEN_FDS='{listenFds}' is not a valid fd count.");
        if (count == 0) return new(0, []);
        string[] names;
        if (listenFdNames is null)
        {
            names = Enumerable.Repeat("unknown", count).ToArray();
        }
        else
        {
            names = listenFdNames.Split(':');
            if (names.Length != count)
                throw new InvalidOperationException($"Socket activation: LISTEN_FDNAMES names {names.Length} fds but LISTEN_FDS is {count}.");
        }
        return new(count, names);
    }

    /// <summary>
    /// Takes the activated sockets of this process (see the class summary). Returns an empty list when none were
    /// passed to us.
    /// </summary>
    public static IReadOnlyList<ActivatedSocket> TakeFromEnvironment()
    {
        try
        {
            var passed = Parse(Environment.GetEnvironmentVariable("LISTEN_PID"), Environment.GetEnvironmentVariable("LISTEN_FDS"),
                Environment.GetEnvironmentVariable("LISTEN_FDNAMES"), Posix.GetProcessId());
            var sockets = new ActivatedSocket[passed.Count];
            for (int i = 0; i < passed.Count; i++)
            {
                int fd = ListenFdsStart + i;
                int flags = Libc.Fcntl(fd, Libc.F_GETFD, 0);
                if (flags < 0 || Libc.Fcntl(fd, Libc.F_SETFD, flags | Libc.FD_CLOEXEC) < 0)
                    throw new LinuxEventException(Libc.LastErrno, $"fcntl(fd={fd}, F_SETFD, FD_CLOEXEC)", $"Socket activation: LISTEN_FDS={passed.Count} but fd {fd} is not open.");
                sockets[i] = Describe(fd, passed.Names[i]);
            }
            return sockets;
        }
        finally
        {
            Unset("LISTEN_PID");
            Unset("LISTEN_FDS");
            Unset("LISTEN_FDNAMES");
        }
    }

    /// <summary>Reads what kind of fd was passed: a listening stream socket, and its address.</summary>
    internal static ActivatedSocket Describe(int fd, string name)
    {
        const int SOL_SOCKET = 1, SO_ACCEPTCONN = 30;
        bool listening;
        try { listening = Posix.GetSocketOption(fd, SOL_SOCKET, SO_ACCEPTCONN) != 0; }
        catch (LinuxEventSocketException) { listening = false; } // ENOTSOCK: a FIFO, a file, a device
        System.Net.EndPoint? local = null;
        try { local = Posix.GetLocalEndPoint(fd); }
        catch (LinuxEventSocketException) { }
        catch (ArgumentException) { }                              // an address family .NET cannot describe
        return new ActivatedSocket(fd, name, listening, local);
    }

    /// <summary>Removes a variable from the managed view (what .NET and LinuxEvent pass to children) and from the
    /// native environment (what native code and exec'ing children see).</summary>
    private static void Unset(string name)
    {
        Environment.SetEnvironmentVariable(name, null);
        Libc.UnsetEnv(name);
    }
}
