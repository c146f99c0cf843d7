using System.Text;

namespace LinuxEvent.Simulate.Redis;

/// <summary>One command a scenario client sent, waiting for its reply: what it was, and when it was sent.</summary>
/// <param name="Kind">What the command does (selects the check).</param>
/// <param name="Args">The command's arguments, as sent.</param>
/// <param name="Key">The key it touches (null for PING, ECHO, unknown commands).</param>
/// <param name="TtlNs">SET PX / EXPIRE: the TTL in virtual nanoseconds.</param>
/// <param name="SentAt">Virtual time the command was written.</param>
public sealed record RedisCommand(RedisCommandKind Kind, string[] Args, string? Key, long TtlNs, long SentAt)
{
    /// <summary>The command as a RESP array of bulk strings.</summary>
    public byte[] Encode()
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(Args.Length).Append("\r\n");
        foreach (var a in Args) sb.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(' ', Args.Select(a => a.Length <= 24 ? a : a[..24] + "..."));
}
