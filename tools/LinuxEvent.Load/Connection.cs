using LinuxEvent;

namespace LinuxEvent.Load;

/// <summary>One client connection and its place in the byte stream.</summary>
internal sealed class Connection
{
    public int Fd = -1, Id;
    public bool OutArmed, Connected, Dirty;
    public long Base;                         // pattern offset of this connection's stream
    public long Tx, Goal, Rx;                 // bytes written, bytes owed so far, bytes echoed back and checked
    public long Issued, Done, Measured;       // messages owed, completed, and counted in msgs_per_s
    public int RingOffset;                    // closed loop: its DEPTH slots of owed times in LoadGenerator's ring
    public Watcher Watcher = null!;
}
