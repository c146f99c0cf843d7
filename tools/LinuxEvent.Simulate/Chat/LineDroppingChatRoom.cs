using System.Text;
using LinuxEvent.Net;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate.Chat;

/// <summary>
/// A deliberately broken chat room, kept to prove that the chat scenario catches a real bug and replays it by seed. It
/// is built like the example's room (examples/Shared/ChatRoom.cs: an accept loop, one <see cref="LoopStream"/> per
/// client, input through <see cref="LoopStream.OnInput"/>) and makes the mistake that design invites: its input handler
/// reports everything as consumed, so the part of a line that a short read or a split segment leaves for the next
/// receive is lost instead of staying in the stream. It speaks the same protocol and is correct in everything else;
/// with faults off it passes. Runs as the scenario "chat-broken".
/// </summary>
public static class LineDroppingChatRoom
{
    private sealed class Member(LoopStream stream)
    {
        public readonly LoopStream Stream = stream;
        public string? Name;
    }

    /// <summary>The room on <paramref name="host"/>: accepts on <paramref name="listeningSocket"/> (owned) until
    /// <paramref name="stopping"/> is cancelled, then closes everything.</summary>
    public static async Task RunAsync(SimHost host, int listeningSocket, CancellationToken stopping)
    {
        var loop = host.Loop;
        var members = new List<Member>();
        try
        {
            while (true)
            {
                int fd;
                try { fd = await loop.AcceptAsync(listeningSocket, stopping); }
                catch (OperationCanceledException) { break; }
                catch (Exception ex) when (ex is ILinuxEventError)
                {
                    try { await loop.DelayAsync(TimeSpan.FromMilliseconds(10), stopping); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                var member = new Member(new LoopStream(loop, fd));
                members.Add(member);
                member.Stream.OnInput = (_, input) => OnInput(members, member, input);
                member.Stream.OnClose = (_, _) =>
                {
                    members.Remove(member);
                    if (member.Name is not null) Broadcast(members, member, $"* {member.Name} left\r\n");
                };
                member.Stream.Write("Welcome to LinuxEvent chat! What is your name?\r\n"u8);
                member.Stream.Start();
            }
        }
        finally
        {
            Posix.Close(listeningSocket);
        }
        foreach (var m in members.ToArray()) m.Stream.Close();
    }

    private static int OnInput(List<Member> members, Member member, ReadOnlySpan<byte> input)
    {
        int start = 0;
        for (int nl = input.IndexOf((byte)'\n'); nl >= 0 && !member.Stream.IsClosed; nl = input[start..].IndexOf((byte)'\n'))
        {
            OnLine(members, member, Encoding.UTF8.GetString(input.Slice(start, nl)).TrimEnd('\r'));
            start += nl + 1;
        }
        // THE BUG: input[start..] is the beginning of a line whose end is still on its way; returning input.Length
        // instead of start tells the stream it was consumed, so it is dropped instead of kept for the next receive.
        return input.Length;
    }

    private static void OnLine(List<Member> members, Member member, string line)
    {
        if (member.Name is null)
        {
            string name = line.Trim();
            if (name.Length == 0) return;
            member.Name = name;
            var others = members.Where(m => m != member && m.Name is not null).Select(m => m.Name).ToList();
            member.Stream.Write(Encoding.UTF8.GetBytes(others.Count == 0
                ? $"Hello {name}! You are the first one here.\r\n"
                : $"Hello {name}! Also here: {string.Join(", ", others)}.\r\n"));
            Broadcast(members, member, $"* {name} joined\r\n");
            return;
        }
        if (line.Length > 0) Broadcast(members, member, $"{member.Name} : {line}\r\n");
    }

    private static void Broadcast(List<Member> members, Member from, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var m in members)
            if (m != from && m.Name is not null && !m.Stream.IsClosed && !m.Stream.IsPeerEnded) m.Stream.Write(bytes);
    }
}
