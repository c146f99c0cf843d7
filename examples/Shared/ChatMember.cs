// Shared by examples/chat-server.cs (`#:include Shared/ChatMember.cs`) and the simulation's chat scenario
// (tools/LinuxEvent.Simulate): one connected chat client as the server sees it.
using LinuxEvent.Net;

/// <summary>
/// One connected client: its stream, its name once chosen, and its place in the room's list. An idle member costs this
/// object and its <see cref="LoopStream"/>: no receive buffer (the loop's shared one is used) and no output array
/// (the stream's queue holds one only while bytes wait for the kernel).
/// </summary>
internal sealed class ChatMember(LoopStream stream)
{
    public readonly LoopStream Stream = stream;
    public byte[]? Name;                               // null until the client has picked one
    public int Index = -1;                             // position in ChatRoom._clients while connected
}
