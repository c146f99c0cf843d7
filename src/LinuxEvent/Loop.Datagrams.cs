using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LinuxEvent.Async;
using LinuxEvent.Datagrams;
using LinuxEvent.Native;
using LinuxEvent.Seam;

namespace LinuxEvent;

public abstract partial class Loop
{
    private EndPointCache? _endPoints;

    /// <summary>Decoded peer addresses, so that a datagram from a known peer costs no allocation.</summary>
    internal EndPointCache EndPoints => _endPoints ??= new EndPointCache();

    /// <summary>
    /// Sends one datagram to <paramref name="remote"/> (sendmsg with a destination, MSG_NOSIGNAL). Result: the bytes sent,
    /// which for a datagram socket is the whole buffer (a datagram is sent whole or not at all). Reactor: tries
    /// sendmsg, waits for writability on EAGAIN (a full socket send buffer). Proactor: submits IORING_OP_SENDMSG.
    /// </summary>
    /// <remarks>
    /// <para>Same rules as <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/>: loop thread only; a send occupies the fd's write side, so one send
    /// may be pending per socket; errors are <see cref="LinuxEventException"/>s naming the syscall and the destination,
    /// e.g. <c>sendmsg(fd=7, to 127.0.0.1:9)</c> with EMSGSIZE for a datagram larger than the protocol carries (UDP over
    /// IPv4: 65507 bytes). The buffer must not change until the call completes (the proactor's kernel reads it then).</para>
    /// <para>Allocation: none per call for an <see cref="IPEndPoint"/>; a <see cref="UnixDomainSocketEndPoint"/> is
    /// encoded once per object, so reuse the object for repeated sends to the same peer.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="remote"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="remote"/> is neither an IPv4/IPv6 <see cref="IPEndPoint"/> nor
    /// a <see cref="UnixDomainSocketEndPoint"/> (resolve a <see cref="DnsEndPoint"/> first).</exception>
    public ValueTask<int> SendToAsync(int socket, ReadOnlyMemory<byte> buffer, EndPoint remote, CancellationToken cancellationToken = default)
    {
        const string call = "Loop.SendToAsync";
        CheckRemote(remote, call);
        return StartMessageIo(AsyncKind.SendMessage, socket, new MessageRequest(default, buffer, remote, default, default, false),
            cancellationToken, call, null).AsValueTask();
    }

    /// <summary>
    /// Receives one datagram and its sender (recvmsg). Result: the bytes received (0 is an empty datagram, not an end
    /// of stream) and the sender's address. Reactor: tries recvmsg, waits for readability on EAGAIN. Proactor: submits
    /// IORING_OP_RECVMSG. Cancelling the token cancels the wait, unless a datagram was already received: then it is
    /// returned (nothing is lost).
    /// </summary>
    /// <remarks>
    /// <para><b>Truncation is reported, never silent.</b> A datagram larger than <paramref name="buffer"/> fails the
    /// call with <see cref="DatagramTruncatedException"/> (errno EMSGSIZE, naming the socket, the buffer size and the
    /// sender). The datagram is consumed: its first bytes are in the buffer and the kernel discarded the rest. To get
    /// the truncated bytes as a result instead, with a flag, use <see cref="ReceiveMessageAsync"/>.</para>
    /// <para><b>The sender</b> is an <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>, or null when
    /// it has no address (an unnamed Unix socket, such as one end of <see cref="Posix.DatagramSocketPair"/>).
    /// Consecutive datagrams from the same peer return the same object, so receiving from known peers allocates nothing:
    /// treat it as read-only (an endpoint that was modified is detected and replaced, never trusted).</para>
    /// <para>Same rules as <see cref="ReadAsync(int, Memory{byte}, CancellationToken)"/> (loop thread; one read-side operation pending per socket; errors name
    /// the syscall, e.g. <c>recvmsg(fd=7)</c>). Any SCM_RIGHTS fds that arrive are closed by the kernel (no room is
    /// offered for them); receive them with <see cref="ReceiveMessageAsync"/>.</para>
    /// </remarks>
    public ValueTask<SocketReceiveFromResult> ReceiveFromAsync(int socket, Memory<byte> buffer, CancellationToken cancellationToken = default)
        => AsReceiveFrom(StartMessageIo(AsyncKind.ReceiveMessage, socket, new MessageRequest(buffer, default, null, default, default, true),
            cancellationToken, "Loop.ReceiveFromAsync", null));

    /// <summary>
    /// Sends a message with sendmsg(2): <paramref name="buffer"/>, to <paramref name="remote"/> (null on a connected
    /// socket), with <paramref name="fds"/> passed as SCM_RIGHTS (empty for none; Unix sockets only). Result: the bytes
    /// sent (a datagram is sent whole; on a stream socket the count may be short, and the fds travel with the first byte
    /// sent, so send at least one byte with them).
    /// </summary>
    /// <remarks>
    /// <para><b>Fd ownership:</b> the fds stay the caller's. The kernel takes its own reference to each file when the
    /// send happens, so keep them open until the call completes (the proactor's kernel resolves the numbers only when
    /// it performs the send); close them afterwards if they were only meant for the peer.</para>
    /// <para>Same rules and errors as <see cref="SendToAsync(int, ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/>.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="remote"/> is of an unsupported type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">More than 253 fds (SCM_MAX_FD), or a negative fd in
    /// <paramref name="fds"/>.</exception>
    public ValueTask<int> SendMessageAsync(int socket, ReadOnlyMemory<byte> buffer, EndPoint? remote, ReadOnlyMemory<int> fds,
        CancellationToken cancellationToken = default)
    {
        const string call = "Loop.SendMessageAsync";
        if (remote is not null) CheckRemote(remote, call);
        CheckFds(fds.Span, call);
        return StartMessageIo(AsyncKind.SendMessage, socket, new MessageRequest(default, buffer, remote, fds, default, false),
            cancellationToken, call, null).AsValueTask();
    }

    /// <summary>
    /// Receives a message with recvmsg(2): bytes into <paramref name="buffer"/>, the sender, and up to
    /// <paramref name="fds"/>.Length SCM_RIGHTS fds into <paramref name="fds"/> (empty: none are accepted). Nothing is
    /// thrown for truncation: <see cref="ReceiveMessageResult.Flags"/> reports it.
    /// </summary>
    /// <remarks>
    /// <para><b>Received fds</b> (<c>fds[..FdCount]</c>) belong to the caller, who must close them; they are
    /// close-on-exec (MSG_CMSG_CLOEXEC). If more arrive than <paramref name="fds"/> holds (at most 253 are used, the
    /// kernel's SCM_MAX_FD), the kernel closes the extra ones and the result has
    /// <see cref="ReceiveMessageFlags.ControlTruncated"/>.</para>
    /// <para><b>Truncation:</b> a datagram larger than <paramref name="buffer"/> yields its first bytes with
    /// <see cref="ReceiveMessageFlags.Truncated"/>; the kernel discarded the rest.</para>
    /// <para>Works on datagram and stream sockets (on a Unix stream socket, a receive stops at a message boundary where
    /// fds were attached). Other ancillary data (e.g. SO_PASSCRED credentials) is not interpreted and takes room from
    /// the fds. Same rules as <see cref="ReceiveFromAsync(int, Memory{byte}, CancellationToken)"/>.</para>
    /// </remarks>
    public ValueTask<ReceiveMessageResult> ReceiveMessageAsync(int socket, Memory<byte> buffer, Memory<int> fds,
        CancellationToken cancellationToken = default)
        => AsReceiveMessage(StartMessageIo(AsyncKind.ReceiveMessage, socket,
            new MessageRequest(buffer, default, null, default, fds.Length > Libc.SCM_MAX_FD ? fds[..Libc.SCM_MAX_FD] : fds, false),
            cancellationToken, "Loop.ReceiveMessageAsync", null));

    // ------------------------------------------------------------------ shared by Loop and LoopFd, and by both drivers

    /// <summary>The one entry of every datagram call: the rules above the seam (<see cref="TryBeginIo"/>), then the driver.</summary>
    internal IoStart StartMessageIo(AsyncKind kind, int fd, in MessageRequest request, CancellationToken token, string call, LoopFd? via)
    {
        if (!TryBeginIo(kind, fd, token, call, via, out var state, out var early)) return early;
        return Driver.StartMessage(state, kind, request, token);
    }

    /// <summary>
    /// For drivers: takes a pooled awaitable (<see cref="ParkIo"/>) and prepares its msghdr for the request. If the
    /// request cannot be encoded, the use is already settled with that error when this returns (check
    /// <see cref="LoopValueTaskSource{T}.IsPending"/>); the drivers then start nothing.
    /// </summary>
    internal AsyncOp ParkMessageIo(IoFd state, AsyncKind kind, in MessageRequest request, CancellationToken token)
    {
        var op = ParkIo(state, kind, request.Buffer, request.ConstBuffer, request.Remote, token);
        try
        {
            var message = op.Message ??= new MessageBlock();
            if (kind == AsyncKind.SendMessage) message.PrepareSend(request.Remote, request.SendFds.Span);
            else
            {
                op.ReceiveFds = request.ReceiveFds;
                op.ThrowOnTruncation = request.ThrowOnTruncation;
                message.PrepareReceive(request.ReceiveFds.Length);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or OutOfMemoryException)
        {
            op.Fail(ex);
        }
        return op;
    }

    /// <summary>
    /// For drivers: settles a message operation from the syscall's or the CQE's result (negative: -errno), the same way
    /// on both models: reads the sender, the flags and the received fds from the msghdr the kernel wrote, and fails a
    /// ReceiveFromAsync whose datagram was truncated.
    /// </summary>
    internal void FinishMessageIo(AsyncOp op, int result)
    {
        if (result < 0)
        {
            op.Fail(MessageError(op, -result));
            return;
        }
        if (op.Kind == AsyncKind.SendMessage)
        {
            op.Complete(result);
            return;
        }
        int fdCount = op.Message!.ReadReceived(op.ReceiveFds.Span, EndPoints, out var from, out var flags);
        op.ReceivedFrom = from;
        op.ReceivedFdCount = fdCount;
        op.ReceivedFlags = flags;
        if (op.ThrowOnTruncation && (flags & ReceiveMessageFlags.Truncated) != 0)
        {
            op.Fail(new DatagramTruncatedException(op.Fd, result, from));
            return;
        }
        op.Complete(result);
    }

    private static Exception MessageError(AsyncOp op, int errno)
    {
        if (op.Kind != AsyncKind.SendMessage || op.Remote is not { } remote)
            return ThrowHelper.IoError(IoNames.Of(op.Kind), op.Fd, errno);
        string? detail = errno == Errno.EMSGSIZE
            ? $"The {op.ConstBuffer.Length}-byte datagram is larger than this socket can send in one datagram (UDP: at most 65507 bytes over IPv4, 65527 over IPv6)."
            : null;
        return new LinuxEventSocketException(errno, $"sendmsg(fd={op.Fd}, to {remote})", detail);
    }

    private static void CheckRemote(EndPoint? remote, string call)
    {
        if (remote is null) throw new ArgumentNullException(nameof(remote), $"{call}: the destination must not be null.");
        if (remote is IPEndPoint { AddressFamily: AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 } or UnixDomainSocketEndPoint) return;
        throw new ArgumentException($"{call}: unsupported endpoint '{remote}' ({remote.GetType().Name}, {remote.AddressFamily}); use an IPEndPoint (IPv4 or IPv6) or a UnixDomainSocketEndPoint, and resolve a DnsEndPoint first.", nameof(remote));
    }

    private static void CheckFds(ReadOnlySpan<int> fds, string call)
    {
        if (fds.Length > Libc.SCM_MAX_FD)
            throw new ArgumentOutOfRangeException(nameof(fds), fds.Length, $"{call}: at most {Libc.SCM_MAX_FD} fds fit in one message (SCM_MAX_FD).");
        for (int i = 0; i < fds.Length; i++)
        {
            if (fds[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(fds), fds[i], $"{call}: fds[{i}] is negative.");
        }
    }

    internal static ValueTask<SocketReceiveFromResult> AsReceiveFrom(in IoStart start)
        => start.Op is { } op ? new ValueTask<SocketReceiveFromResult>(op, op.Version)
            : start.Error is { } error ? ValueTask.FromException<SocketReceiveFromResult>(error)
            : start.CanceledBy.IsCancellationRequested ? ValueTask.FromCanceled<SocketReceiveFromResult>(start.CanceledBy)
            : throw new UnreachableException("A message start always parks an operation.");

    internal static ValueTask<ReceiveMessageResult> AsReceiveMessage(in IoStart start)
        => start.Op is { } op ? new ValueTask<ReceiveMessageResult>(op, op.Version)
            : start.Error is { } error ? ValueTask.FromException<ReceiveMessageResult>(error)
            : start.CanceledBy.IsCancellationRequested ? ValueTask.FromCanceled<ReceiveMessageResult>(start.CanceledBy)
            : throw new UnreachableException("A message start always parks an operation.");

    /// <summary>For <see cref="LoopFd"/>: the argument checks of <see cref="SendToAsync(int, ReadOnlyMemory{byte}, EndPoint, CancellationToken)"/> and <see cref="SendMessageAsync"/>.</summary>
    internal static void CheckMessageArguments(EndPoint? remote, bool remoteRequired, ReadOnlySpan<int> fds, string call)
    {
        if (remote is not null || remoteRequired) CheckRemote(remote, call);
        CheckFds(fds, call);
    }
}
