using System.Globalization;
using System.Text;

namespace LinuxEvent.Simulate.Redis;

/// <summary>One RESP2 reply: a simple string (+), an error (-), an integer (:), a bulk string ($, null for $-1), or an
/// array (*, its elements).</summary>
public sealed record RespReply(char Type, string? Text, long Integer, IReadOnlyList<RespReply>? Items)
{
    /// <summary>Parses one reply from the start of <paramref name="input"/>; 0 when it is not complete yet, -1 when the
    /// bytes are not RESP, else the bytes it took.</summary>
    public static int TryParse(ReadOnlySpan<byte> input, out RespReply? reply)
    {
        reply = null;
        int nl = input.IndexOf("\r\n"u8);
        if (nl < 0) return input.Length > 64 * 1024 ? -1 : 0;
        if (nl == 0) return -1;
        char type = (char)input[0];
        string line = Encoding.UTF8.GetString(input[1..nl]);
        int used = nl + 2;
        switch (type)
        {
            case '+':
            case '-':
                reply = new RespReply(type, line, 0, null);
                return used;
            case ':':
                if (!long.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)) return -1;
                reply = new RespReply(type, null, value, null);
                return used;
            case '$':
                if (!int.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int length) || length < -1) return -1;
                if (length == -1)
                {
                    reply = new RespReply(type, null, 0, null);
                    return used;
                }
                if (input.Length < used + length + 2) return 0;
                if (!input.Slice(used + length, 2).SequenceEqual("\r\n"u8)) return -1;
                reply = new RespReply(type, Encoding.UTF8.GetString(input.Slice(used, length)), 0, null);
                return used + length + 2;
            case '*':
                if (!int.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int count) || count < -1) return -1;
                var items = new List<RespReply>();
                for (int i = 0; i < count; i++)
                {
                    int n = TryParse(input[used..], out var item);
                    if (n <= 0) return n;
                    items.Add(item!);
                    used += n;
                }
                reply = new RespReply(type, null, 0, items);
                return used;
            default:
                return -1;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        ':' => ":" + Integer.ToString(CultureInfo.InvariantCulture),
        '$' => Text is null ? "(nil)" : $"\"{Shorten(Text)}\"",
        '*' => $"[{string.Join(", ", Items!)}]",
        _ => Type + (Text ?? ""),
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + $"...({s.Length} chars)";
}
