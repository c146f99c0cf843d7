using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>
/// Opens outgoing connections on a loop of either model: to an IP endpoint, a Unix socket path, or a host name.
/// </summary>
/// <remarks>
/// <para>Name resolution runs off the loop thread (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>);
/// its result is posted back to the loop. The addresses are tried one after another in the resolver's order (RFC 6724
/// preference); the first that connects wins. Reactor: a non-blocking connect and a write watcher, then SO_ERROR.
/// Proactor: an IORING_OP_CONNECT.</para>
/// <para>The callback runs exactly once, from the loop's dispatch (never inside the Connect call), unless the attempt is
/// cancelled: <see cref="ConnectAttempt.Cancel"/> is silent. When it runs, nothing of the attempt remains: no timer, no
/// watcher, no operation, no fd other than the one handed over.</para>
/// <para>Disposing the loop cancels a pending attempt, on both models, as silently as <see cref="ConnectAttempt.Cancel"/>
/// (the socket being connected is closed); <see cref="ConnectAsync(Loop, EndPoint, ConnectOptions?, CancellationToken)"/>
/// then fails with <see cref="ObjectDisposedException"/> naming the loop.</para>
/// </remarks>
public static class Connector
{
    /// <summary>Connects to <paramref name="remote"/> (<see cref="IPEndPoint"/> or <see cref="UnixDomainSocketEndPoint"/>).</summary>
    public static ConnectAttempt Connect(Loop loop, EndPoint remote, Action<ConnectResult> callback, ConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return Connect(loop, [remote], callback, options);
    }

    /// <summary>Connects to the first of <paramref name="candidates"/> that accepts, in order.</summary>
    public static ConnectAttempt Connect(Loop loop, IReadOnlyList<EndPoint> candidates, Action<ConnectResult> callback, ConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(callback);
        if (candidates.Count == 0) throw new ArgumentException("Connector.Connect: no endpoint to connect to.", nameof(candidates));
        foreach (var c in candidates)
            if (c is not (IPEndPoint or UnixDomainSocketEndPoint))
                throw new ArgumentException($"Connector.Connect: unsupported endpoint '{c}' ({c?.AddressFamily}); use IPEndPoint or UnixDomainSocketEndPoint.", nameof(candidates));
        var attempt = new ConnectAttempt(loop, callback, options ?? ConnectOptions.Default, string.Join(", ", candidates.Select(SocketHelpers.Describe)));
        attempt.Begin(candidates);
        return attempt;
    }

    /// <summary>Resolves <paramref name="host"/> (an IP literal, bracketed or not — "127.0.0.1", "::1", "[::1]",
    /// "[127.0.0.1]" — is used as is) and connects to <paramref name="port"/>.</summary>
    public static ConnectAttempt Connect(Loop loop, string host, int port, Action<ConnectResult> callback, ConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(callback);
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "Connector.Connect: the port must be in 0..65535.");
        // An address literal in brackets ("[::1]", "[127.0.0.1]", as in a URL's authority) is that literal, never a name to
        // resolve: strip the brackets for both families. Brackets around anything else are a malformed host.
        string bare = host;
        if (host.Length >= 2 && host[0] == '[' && host[^1] == ']')
        {
            bare = host[1..^1];
            if (!IPAddress.TryParse(bare, out _))
                throw new ArgumentException($"Connector.Connect: '{host}' has brackets but is not an IP address literal.", nameof(host));
        }
        var attempt = new ConnectAttempt(loop, callback, options ?? ConnectOptions.Default, $"{host}:{port}");
        if (IPAddress.TryParse(bare, out var literal)) attempt.Begin([new IPEndPoint(literal, port)]);
        else attempt.Resolve(bare, port);
        return attempt;
    }

    /// <summary>Async form of <see cref="Connect(Loop, EndPoint, Action{ConnectResult}, ConnectOptions?)"/>. Throws the
    /// attempt's <see cref="LinuxEventSocketException"/> on failure; cancelling the token cancels the attempt. Disposing the
    /// loop first fails it with <see cref="ObjectDisposedException"/> naming the loop.</summary>
    public static Task<SocketConnection> ConnectAsync(Loop loop, EndPoint remote, ConnectOptions? options = null, CancellationToken cancellationToken = default)
        => AsTask(loop, cancellationToken, cb => Connect(loop, remote, cb, options));

    /// <summary>Async form of <see cref="Connect(Loop, string, int, Action{ConnectResult}, ConnectOptions?)"/>.</summary>
    public static Task<SocketConnection> ConnectAsync(Loop loop, string host, int port, ConnectOptions? options = null, CancellationToken cancellationToken = default)
        => AsTask(loop, cancellationToken, cb => Connect(loop, host, port, cb, options));

    private static Task<SocketConnection> AsTask(Loop loop, CancellationToken token, Func<Action<ConnectResult>, ConnectAttempt> start)
    {
        if (token.IsCancellationRequested) return Task.FromCanceled<SocketConnection>(token);
        var tcs = new TaskCompletionSource<SocketConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempt = start(r =>
        {
            if (r.Succeeded) tcs.TrySetResult(r.Connection);
            else tcs.TrySetException(r.Error!);
        });
        // The callback never runs if the loop is disposed first; the attempt then fails the task itself. Set before
        // the loop can run: the attempt only starts from the loop's deferred phase.
        attempt.AsyncCompletion = tcs;
        if (token.CanBeCanceled)
        {
            var reg = token.Register(() =>
            {
                void CancelOnLoop()
                {
                    // Only the call that actually cancels reports it; if the attempt settled first its result stands.
                    if (attempt.Cancel()) tcs.TrySetCanceled(token);
                }
                if (loop.IsOnLoopThread) CancelOnLoop();
                else
                {
                    try { loop.Post(_ => CancelOnLoop()); } catch (ObjectDisposedException) { tcs.TrySetCanceled(token); }
                }
            });
            tcs.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), reg, TaskScheduler.Default);
        }
        return tcs.Task;
    }
}
