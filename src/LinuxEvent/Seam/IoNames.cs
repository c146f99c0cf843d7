using LinuxEvent.Async;

namespace LinuxEvent.Seam;

/// <summary>
/// The one table of names for I/O kinds: the syscall an error is named after (<c>recv(fd=7)</c>), whichever model
/// performed it, and the API call a proactor operation was started by (<c>ProactorLoop.Receive</c>). Strings are built
/// once, so naming a call on a hot path allocates only when an error is actually thrown.
/// </summary>
internal static class IoNames
{
    private static readonly string[] s_syscall = Build(k => k switch
    {
        OperationKind.Read => "read",
        OperationKind.Write => "write",
        OperationKind.Receive or OperationKind.ReceiveMultishot => "recv",
        OperationKind.Send => "send",
        OperationKind.Accept or OperationKind.AcceptMultishot => "accept4",
        OperationKind.Connect => "connect",
        OperationKind.Shutdown => "shutdown",
        OperationKind.Close => "close",
        OperationKind.Splice => "splice",
        OperationKind.Timeout => "timeout",
        OperationKind.Nop => "nop",
        OperationKind.SendMessage => "sendmsg",
        OperationKind.ReceiveMessage => "recvmsg",
        _ => k.ToString().ToLowerInvariant(),
    });

    private static readonly string[] s_proactorCall = Build(k => "ProactorLoop." + k);

    private static string[] Build(Func<OperationKind, string> name)
    {
        var values = Enum.GetValues<OperationKind>();
        int max = 0;
        foreach (var v in values) max = Math.Max(max, (int)v);
        var table = new string[max + 1];
        foreach (var v in values) table[(int)v] = name(v);
        return table;
    }

    /// <summary>The syscall behind <paramref name="kind"/> (e.g. "recv").</summary>
    public static string Syscall(OperationKind kind) => (uint)kind < (uint)s_syscall.Length ? s_syscall[(int)kind] : kind.ToString();

    /// <summary>The proactor API call that starts <paramref name="kind"/> (e.g. "ProactorLoop.Receive").</summary>
    public static string ProactorCall(OperationKind kind) => (uint)kind < (uint)s_proactorCall.Length ? s_proactorCall[(int)kind] : "ProactorLoop operation";

    /// <summary>True for the calls that only sockets take (their errors surface as <see cref="System.Net.Sockets.SocketException"/>).</summary>
    public static bool IsSocketCall(OperationKind kind) => kind is OperationKind.Receive or OperationKind.Send or OperationKind.Accept
        or OperationKind.Connect or OperationKind.Shutdown or OperationKind.AcceptMultishot or OperationKind.ReceiveMultishot
        or OperationKind.SendMessage or OperationKind.ReceiveMessage;

    /// <summary>The syscall and fd, as errors name them: <c>recv(fd=7)</c>.</summary>
    public static string Call(OperationKind kind, int fd) => $"{Syscall(kind)}(fd={fd})";

    /// <summary>The operation kind an async kind performs (readiness waits and delays have none: Nop).</summary>
    public static OperationKind Of(AsyncKind kind) => kind switch
    {
        AsyncKind.Read => OperationKind.Read,
        AsyncKind.Write => OperationKind.Write,
        AsyncKind.Receive => OperationKind.Receive,
        AsyncKind.Send => OperationKind.Send,
        AsyncKind.Accept => OperationKind.Accept,
        AsyncKind.Connect => OperationKind.Connect,
        AsyncKind.SendMessage => OperationKind.SendMessage,
        AsyncKind.ReceiveMessage => OperationKind.ReceiveMessage,
        _ => OperationKind.Nop,
    };
}
