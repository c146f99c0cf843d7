namespace LinuxEvent.Files;

/// <summary>Moves scripted bytes in and out of a file request's buffers, for both fakes.</summary>
internal static class FakeFileData
{
    /// <summary>Copies <paramref name="data"/> into the request's buffer, or across its vector in order.</summary>
    public static void Scatter(FileRequest r, ReadOnlySpan<byte> data)
    {
        if (r.Buffers is not { } vector)
        {
            data.CopyTo(r.Buffer.Span);
            return;
        }
        for (int i = 0; i < vector.Count && !data.IsEmpty; i++)
        {
            var dst = vector[i].Span;
            int n = Math.Min(dst.Length, data.Length);
            data[..n].CopyTo(dst);
            data = data[n..];
        }
    }

    /// <summary>The bytes a write request would write: its buffer, or its vector concatenated.</summary>
    public static byte[] Gather(FileRequest r)
    {
        if (r.ConstBuffers is not { } vector) return r.ConstBuffer.ToArray();
        var all = new byte[r.Length];
        int at = 0;
        for (int i = 0; i < vector.Count; i++)
        {
            vector[i].Span.CopyTo(all.AsSpan(at));
            at += vector[i].Length;
        }
        return all;
    }
}
