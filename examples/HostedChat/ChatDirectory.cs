namespace LinuxEvent.Examples.HostedChat;

/// <summary>
/// What the loops share: the names in use (unique across the whole room) and each loop's room, to relay messages to
/// the clients of other loops. Thread-safe; touched once per join, leave and message, never per byte.
/// </summary>
internal sealed class ChatDirectory
{
    private readonly object _lock = new();
    private readonly List<string> _names = new();          // in join order
    private ChatLoop?[] _rooms = [];

    /// <summary>Registers (or, after a restart, replaces) the room of loop <paramref name="index"/>.</summary>
    public void SetRoom(int index, int count, ChatLoop room)
    {
        lock (_lock)
        {
            if (_rooms.Length != count) Array.Resize(ref _rooms, count);
            _rooms[index] = room;
        }
    }

    /// <summary>Claims <paramref name="name"/>; returns the names already present, or null if it is taken.</summary>
    public List<string>? TryJoin(string name)
    {
        lock (_lock)
        {
            if (_names.Contains(name)) return null;
            var others = new List<string>(_names);
            _names.Add(name);
            return others;
        }
    }

    public void Leave(string name)
    {
        lock (_lock) _names.Remove(name);
    }

    /// <summary>Hands <paramref name="message"/> to every loop's room but <paramref name="from"/>'s, on each one's thread.</summary>
    public void RelayToOtherLoops(ChatLoop from, byte[] message, ChatClient? except)
    {
        ChatLoop?[] rooms;
        lock (_lock) rooms = _rooms;
        foreach (var room in rooms)
        {
            if (room is null || ReferenceEquals(room, from)) continue;
            try { room.Hosted.Loop.Post(static (_, s) => { var (r, m, e) = ((ChatLoop, byte[], ChatClient?))s!; r.DeliverLocal(m, e); }, (room, message, except)); }
            catch (ObjectDisposedException) { }     // that loop is gone (stopping, or restarting)
        }
    }
}
