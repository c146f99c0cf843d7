using System.Net;
using System.Net.Sockets;
using LinuxEvent.Native;

namespace LinuxEvent.Net;

/// <summary>Receives one accepted connection. The fd belongs to the handler from the moment it is called, even if
/// the handler throws.</summary>
public delegate void AcceptHandler(Listener listener, SocketConnection connection);
