using LinuxEvent.Net;

namespace LinuxEvent.Examples.HostedChat;

/// <summary>One connected client: its stream and, once chosen, its name.</summary>
internal sealed class ChatClient(LoopStream stream)
{
    public LoopStream Stream { get; } = stream;
    public string? Name { get; set; }
}
