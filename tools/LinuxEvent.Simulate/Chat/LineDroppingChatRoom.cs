using System.Text;
using LinuxEvent.Net;
using LinuxEvent.Simulation;

namespace LinuxEvent.Simulate.Chat;

/// <summary>
/// A deliberately broken chat room, kept to prove that the chat scenario catches a real bug and replays it by seed: it
/// assumes every receive ends at a line boundary, so the part of a line that a short read or a split segment leaves
/// for the next receive is lost. It speaks the same protocol as the example's room (examples/Shared/ChatRoom.cs) and is
/// correct in everything else; with faults off it passes. Runs as the scenario "chat-broken".
/// </summary>
public static class LineDroppingChatRoom
{
    private sealed class Member(LoopStream stream)
    {
        public readonly LoopStream Stream = stream;
        public string? Name;
    }

    /// <summary>The room on <paramref name="host"/>: accepts on <paramref name="listeningSocket"/> (owned) until
    /// <paramref name="stopping"/> is cancelled (on the loop), then closes everything.</summary>
    public static Task RunAsync(SimHost host, int listeningSocket, CancellationToken stopping)
    {
        var members = new List<Member>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = Listener.FromSocket(host.Loop, listeningSocket, ownsSocket: true, (_, connection) =>
        {
            var member = new Member(connection.ToStream(host.Loop));
            members.Add(member);
            member.Stream.OnData = (_, data) => OnData(members, member, data);
            member.Stream.OnClose = (_, _) =>
            {
                members.Remove(member);
                if (member.Name is not null) Broadcast(members, member, $"* {member.Name} left\r\n");
            };
            member.Stream.Start();
            member.Stream.Write("Welcome to LinuxEvent chat! What is your name?\r\n"u8);
        });
        stopping.Register(() =>
        {
            listener.Dispose();
            foreach (var m in members.ToArray()) m.Stream.Close();
            stopped.TrySetResult();
        });
        return stopped.Task;
    }

    private static void OnData(List<Member> members, Member member, ReadOnlySpan<byte> data)
    {
        var text = Encoding.UTF8.GetString(data);
        int start = 0;
        for (int nl = text.IndexOf('\n'); nl >= 0; nl = text.IndexOf('\n', start))
        {
            OnLine(members, member, text[start..nl].TrimEnd('\r'));
            start = nl + 1;
        }
        // THE BUG: text[start..] is the beginning of a line whose end is still on its way; it is dropped here
        // instead of being kept for the next receive.
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
            if (m != from && m.Name is not null && !m.Stream.IsClosed) m.Stream.Write(bytes);
    }
}
