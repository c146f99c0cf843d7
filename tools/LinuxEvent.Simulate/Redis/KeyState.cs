namespace LinuxEvent.Simulate.Redis;

/// <summary>
/// What a client knows of one of its own keys. A TTL's deadline is only known to lie between the time the command was
/// sent and the time its reply came (the server read its clock in between), so a key with a TTL is certainly alive
/// before <see cref="ExpiresNoEarlier"/>, certainly gone from <see cref="ExpiresNoLater"/>, and either in between.
/// </summary>
public sealed class KeyState
{
    /// <summary>The value, or null when the key does not exist.</summary>
    public string? Value;

    /// <summary>Earliest possible deadline (virtual ns), or 0 for a key without TTL.</summary>
    public long ExpiresNoEarlier;

    /// <summary>Latest possible deadline (virtual ns).</summary>
    public long ExpiresNoLater;

    /// <summary>Existence at a command executed somewhere in [<paramref name="sent"/>, <paramref name="replied"/>]:
    /// true, false, or null when it may be either.</summary>
    public bool? ExistsDuring(long sent, long replied)
    {
        if (Value is null) return false;
        if (ExpiresNoEarlier == 0) return true;
        if (replied < ExpiresNoEarlier) return true;
        if (sent >= ExpiresNoLater) return false;
        return null;
    }

    /// <summary>The key is gone (deleted, expired, or overwritten by nothing).</summary>
    public void Clear()
    {
        Value = null;
        ExpiresNoEarlier = ExpiresNoLater = 0;
    }

    /// <summary>Sets a deadline of <paramref name="ttlNs"/> after a command sent at <paramref name="sent"/> and answered at
    /// <paramref name="replied"/>.</summary>
    public void Expire(long ttlNs, long sent, long replied)
    {
        ExpiresNoEarlier = sent + ttlNs;
        ExpiresNoLater = replied + ttlNs;
    }
}
