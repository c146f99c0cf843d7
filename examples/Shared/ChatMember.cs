// Shared by examples/chat-server.cs (`#:include Shared/ChatMember.cs`) and the simulation's chat scenario
// (tools/LinuxEvent.Simulate): one connected chat client as the server sees it.

/// <summary>One connected client. Reader and writer are separate tasks; the fd is closed when both are done.</summary>
internal sealed class ChatMember(int fd)
{
    public readonly int Fd = fd;
    public byte[]? Name;                               // null until the client has picked one
    public byte[] Outbound = new byte[4096];           // queued bytes, sent by the writer task
    public int OutboundLength;
    public byte[] Sending = new byte[4096];            // the batch the writer is sending (swapped with Outbound)
    public bool Writing;                               // a writer task is running
    public bool ReaderDone;                            // the reader has finished; the writer closes the fd if still busy
    public bool Dropped;                               // shut down by the server (slow consumer or shutdown)
    public Task Completion = Task.CompletedTask;
}
