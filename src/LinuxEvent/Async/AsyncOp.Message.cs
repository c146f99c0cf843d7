using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using LinuxEvent.Datagrams;

namespace LinuxEvent.Async;

/// <summary>
/// The datagram half of a pooled awaitable: the kernel-facing message storage, the message arguments, and the two
/// richer results (<see cref="SocketReceiveFromResult"/>, <see cref="ReceiveMessageResult"/>). The same pooled object
/// backs <c>ValueTask&lt;int&gt;</c>, <c>ValueTask&lt;SocketReceiveFromResult&gt;</c> and
/// <c>ValueTask&lt;ReceiveMessageResult&gt;</c>: one use protocol and one version token, so a datagram call allocates
/// nothing in steady state.
/// </summary>
internal sealed partial class AsyncOp : IValueTaskSource<SocketReceiveFromResult>, IValueTaskSource<ReceiveMessageResult>
{
    internal MessageBlock? Message;               // created on the first datagram use of this object, then reused
    internal Memory<int> ReceiveFds;              // where received fds go
    internal bool ThrowOnTruncation;              // ReceiveFromAsync: a truncated datagram fails with EMSGSIZE
    internal EndPoint? ReceivedFrom;
    internal int ReceivedFdCount;
    internal ReceiveMessageFlags ReceivedFlags;

    private void ClearMessage()
    {
        ReceiveFds = default;
        ReceivedFrom = null;
        ReceivedFdCount = 0;
        ReceivedFlags = ReceiveMessageFlags.None;
        ThrowOnTruncation = false;
    }

    ValueTaskSourceStatus IValueTaskSource<SocketReceiveFromResult>.GetStatus(short token) => GetStatus(token);

    void IValueTaskSource<SocketReceiveFromResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => OnCompleted(continuation, state, token, flags);

    SocketReceiveFromResult IValueTaskSource<SocketReceiveFromResult>.GetResult(short token)
    {
        // Read before GetResult: it retires the use and returns this object to the pool (a stale token throws there,
        // and what was read is dropped).
        var from = ReceivedFrom;
        int bytes = GetResult(token);
        return new SocketReceiveFromResult { ReceivedBytes = bytes, RemoteEndPoint = from! };
    }

    ValueTaskSourceStatus IValueTaskSource<ReceiveMessageResult>.GetStatus(short token) => GetStatus(token);

    void IValueTaskSource<ReceiveMessageResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => OnCompleted(continuation, state, token, flags);

    ReceiveMessageResult IValueTaskSource<ReceiveMessageResult>.GetResult(short token)
    {
        var from = ReceivedFrom;
        int fds = ReceivedFdCount;
        var flags = ReceivedFlags;
        int bytes = GetResult(token);
        return new ReceiveMessageResult(bytes, from, fds, flags);
    }
}
