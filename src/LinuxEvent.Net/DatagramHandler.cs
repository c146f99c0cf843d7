using System.Net;

namespace LinuxEvent.Net;

/// <summary>
/// Receives one datagram (<see cref="DatagramSocket.StartReceiving"/>). <paramref name="datagram"/> is valid only during
/// the call (the socket's receive buffer is reused for the next datagram): copy what must outlive it.
/// <paramref name="remote"/> is the sender (null for an unnamed Unix socket); the same object comes back for consecutive
/// datagrams from one peer, so keeping it (e.g. as a dictionary key or to reply later) costs nothing.
/// </summary>
public delegate void DatagramHandler(DatagramSocket socket, ReadOnlySpan<byte> datagram, EndPoint? remote);
