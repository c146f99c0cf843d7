namespace LinuxEvent.Simulate.Redis;

/// <summary>The commands the redis scenario's clients issue.</summary>
public enum RedisCommandKind
{
    /// <summary>SET key value (no TTL).</summary>
    Set,
    /// <summary>SET key value PX ms.</summary>
    SetWithTtl,
    /// <summary>GET key.</summary>
    Get,
    /// <summary>DEL key.</summary>
    Del,
    /// <summary>EXISTS key.</summary>
    Exists,
    /// <summary>INCR of the client's own counter.</summary>
    Incr,
    /// <summary>INCR of the counter every client shares.</summary>
    IncrShared,
    /// <summary>EXPIRE key seconds.</summary>
    Expire,
    /// <summary>TTL key.</summary>
    Ttl,
    /// <summary>PING.</summary>
    Ping,
    /// <summary>ECHO text.</summary>
    Echo,
    /// <summary>A command mini-redis does not know.</summary>
    Unknown,
    /// <summary>GET of the shared counter at the end (recorded, not modelled).</summary>
    ReadShared,
}
