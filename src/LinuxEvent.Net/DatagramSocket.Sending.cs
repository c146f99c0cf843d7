using System.Net;
using System.Runtime.InteropServices;

namespace LinuxEvent.Net;

public sealed partial class DatagramSocket
{
    // The send queue: datagram bytes in one pinned arena used as a ring (a datagram is stored contiguously; one that
    // does not fit before the end wraps to the start), and a ring of entries (offset, length, destination). Sends go out
    // in order, one pending at a time (the loop's rule: one write-side operation per fd). Pinned memory: a proactor send
    // of a slice needs no GC handle.
    private readonly byte[] _sendArena;
    private readonly Action _onSent;
    private Entry[] _entries = new Entry[16];
    private int _entryHead, _entryCount;
    private int _readPos, _writePos;                  // arena offsets of the oldest queued datagram and of the next free byte
    private int _queuedBytes;
    private bool _sending;
    private ValueTask<int> _pendingSend;
    private LoopAwaitable<bool>? _roomWaiter;
    private int _roomNeeded;

    private struct Entry
    {
        public int Offset;
        public int Length;
        public EndPoint Remote;
    }

    /// <summary>Datagrams the kernel accepted for sending.</summary>
    public long SentDatagrams { get; private set; }

    /// <summary>Datagrams <see cref="SendTo"/> dropped because the send queue was full, plus the datagrams still queued
    /// when the socket was disposed.</summary>
    public long DroppedDatagrams { get; private set; }

    /// <summary>Datagrams the kernel refused (reported to <see cref="OnError"/>).</summary>
    public long SendErrors { get; private set; }

    /// <summary>Datagrams waiting in the send queue.</summary>
    public int QueuedDatagrams => _entryCount;

    /// <summary>Bytes waiting in the send queue.</summary>
    public int QueuedBytes => _queuedBytes;

    /// <summary>
    /// Queues <paramref name="datagram"/> for <paramref name="remote"/> (copied: the span may be reused at once) and
    /// returns true; or, when the send queue has no room for it, drops it, counts it in <see cref="DroppedDatagrams"/>
    /// and returns false. Never waits. Datagrams go out in the order they were queued; a <see cref="SendToAsync"/> that
    /// is waiting for room counts as queued first, so meanwhile this drops.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="remote"/> is null.</exception>
    /// <exception cref="ArgumentException">An unsupported endpoint type, or a datagram larger than the whole send queue.</exception>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    /// <exception cref="InvalidOperationException">Not on the loop thread.</exception>
    public bool SendTo(ReadOnlySpan<byte> datagram, EndPoint remote)
    {
        const string call = "DatagramSocket.SendTo";
        CheckSend(datagram.Length, remote, call);
        if (_roomWaiter is { IsPending: true } || !TryEnqueue(datagram, remote))
        {
            DroppedDatagrams++;
            return false;
        }
        return true;
    }

    /// <summary>
    /// Queues <paramref name="datagram"/> for <paramref name="remote"/>, waiting while the send queue has no room for it
    /// (backpressure for a producer that must not drop). Completes once the datagram is queued (copied: the buffer may
    /// be reused then), not when it is sent. One call may wait at a time.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="remote"/> is null.</exception>
    /// <exception cref="ArgumentException">An unsupported endpoint type, or a datagram larger than the whole send queue.</exception>
    /// <exception cref="ObjectDisposedException">The socket is disposed (also for a pending call when it is).</exception>
    /// <exception cref="InvalidOperationException">Another call is waiting for room; not on the loop thread.</exception>
    public ValueTask SendToAsync(ReadOnlyMemory<byte> datagram, EndPoint remote, CancellationToken cancellationToken = default)
    {
        const string call = "DatagramSocket.SendToAsync";
        CheckSend(datagram.Length, remote, call);
        if (_roomWaiter is { IsPending: true })
            throw new InvalidOperationException($"{call}: another call is already waiting for room in the send queue; await it first.");
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled(cancellationToken);
        if (TryEnqueue(datagram.Span, remote)) return ValueTask.CompletedTask;
        return WaitForRoom(datagram, remote, cancellationToken);
    }

    private async ValueTask WaitForRoom(ReadOnlyMemory<byte> datagram, EndPoint remote, CancellationToken cancellationToken)
    {
        var waiter = _roomWaiter ??= new LoopAwaitable<bool>(Loop, static w => w.SetCanceled());
        while (true)
        {
            _roomNeeded = datagram.Length;
            waiter.Start(cancellationToken);
            await waiter.Task.ConfigureAwait(true);
            if (TryEnqueue(datagram.Span, remote)) return;
        }
    }

    private void CheckSend(int length, EndPoint remote, string call)
    {
        ArgumentNullException.ThrowIfNull(remote);
        Loop.CheckLoopThread(call);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfBadRemote(remote, call);
        if (length > _sendArena.Length)
            throw new ArgumentException($"{call}: the {length}-byte datagram is larger than the whole send queue ({_sendArena.Length} bytes, DatagramSocketOptions.SendQueueBytes).", "datagram");
    }

    /// <summary>Copies the datagram into the arena and queues it; false if there is no room now.</summary>
    private bool TryEnqueue(ReadOnlySpan<byte> datagram, EndPoint remote)
    {
        int length = datagram.Length;
        if (!TryFindRoom(length, out int offset)) return false;
        datagram.CopyTo(_sendArena.AsSpan(offset, length));
        _writePos = offset + length;
        _queuedBytes += length;
        if (_entryCount == _entries.Length) GrowEntries();
        _entries[(_entryHead + _entryCount) % _entries.Length] = new Entry { Offset = offset, Length = length, Remote = remote };
        _entryCount++;
        if (!_sending) PumpSends();
        return true;
    }

    /// <summary>Where a datagram of <paramref name="length"/> bytes would go in the arena, if it fits now.</summary>
    private bool TryFindRoom(int length, out int offset)
    {
        offset = 0;
        if (_entryCount == 0 || _queuedBytes == 0)
        {
            _readPos = _writePos = 0;                  // nothing (or only empty datagrams) queued: the whole arena is free
            return length <= _sendArena.Length;
        }
        if (_writePos > _readPos)
        {
            // Not wrapped: room after the newest datagram, else at the start (in front of the oldest one).
            if (_sendArena.Length - _writePos >= length) { offset = _writePos; return true; }
            return _readPos >= length;
        }
        // Wrapped: the free space lies between the newest and the oldest datagram.
        offset = _writePos;
        return _readPos - _writePos >= length;
    }

    private void GrowEntries()
    {
        var bigger = new Entry[_entries.Length * 2];
        for (int i = 0; i < _entryCount; i++) bigger[i] = _entries[(_entryHead + i) % _entries.Length];
        _entries = bigger;
        _entryHead = 0;
    }

    /// <summary>Sends queued datagrams in order while each send completes at once; waits for one that does not.</summary>
    private void PumpSends()
    {
        _sending = true;
        while (_entryCount > 0 && !_disposed)
        {
            ref var e = ref _entries[_entryHead];
            ValueTask<int> send;
            try
            {
                send = _fd.SendToAsync(MemoryMarshal.CreateFromPinnedArray(_sendArena, e.Offset, e.Length), e.Remote);
            }
            catch (Exception ex)
            {
                SendFailed(ex);
                continue;
            }
            if (!send.IsCompleted)
            {
                _pendingSend = send;
                send.GetAwaiter().UnsafeOnCompleted(_onSent);
                return;
            }
            Sent(send);
        }
        _sending = false;
    }

    private void OnSent()
    {
        var send = _pendingSend;
        _pendingSend = default;
        Sent(send);
        if (_disposed) { _sending = false; return; }
        PumpSends();
    }

    private void Sent(ValueTask<int> send)
    {
        try
        {
            send.GetAwaiter().GetResult();
            SentDatagrams++;
            Dequeue();
        }
        catch (ObjectDisposedException) when (_disposed || Loop.IsDisposed)
        {
            // The socket or the loop went away with this send pending; the queue is discarded by disposal.
        }
        catch (Exception ex)
        {
            SendFailed(ex);
        }
    }

    private void SendFailed(Exception error)
    {
        SendErrors++;
        Dequeue();                                     // UDP: a datagram the kernel refuses is dropped, not retried
        Report(error, fatal: false);
    }

    private void Dequeue()
    {
        if (_entryCount == 0) return;
        ref var e = ref _entries[_entryHead];
        _queuedBytes -= e.Length;
        e.Remote = null!;
        _entryHead = (_entryHead + 1) % _entries.Length;
        _entryCount--;
        if (_entryCount == 0) _readPos = _writePos = 0;
        else _readPos = _entries[_entryHead].Offset;
        if (_roomWaiter is { IsPending: true } waiter && TryFindRoom(_roomNeeded, out _)) waiter.SetResult(true);
    }

    private void DiscardSendQueue(bool loopDisposed)
    {
        DroppedDatagrams += _entryCount;
        for (int i = 0; i < _entryCount; i++) _entries[(_entryHead + i) % _entries.Length].Remote = null!;
        _entryCount = 0;
        _queuedBytes = 0;
        _readPos = _writePos = 0;
        if (_roomWaiter is { IsPending: true } waiter)
            waiter.SetException(loopDisposed ? LoopDisposal.PendingCallFailed(Loop, "DatagramSocket.SendToAsync") : new ObjectDisposedException(nameof(DatagramSocket)));
    }
}
