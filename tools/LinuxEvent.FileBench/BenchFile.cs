namespace LinuxEvent.FileBench;

/// <summary>The benchmark file: real data on disk (an fallocated file's unwritten extents would read as zeros without
/// touching the device), and for page-cache runs, read once so every block is cached.</summary>
internal static class BenchFile
{
    public static void Ensure(string path, long size)
    {
        if (File.Exists(path) && new FileInfo(path).Length == size) return;
        Console.Error.WriteLine($"filebench: writing {size} bytes to {path}");
        var chunk = new byte[1 << 20];
        var rng = new Random(42);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        for (long done = 0; done < size; done += chunk.Length)
        {
            rng.NextBytes(chunk);
            fs.Write(chunk, 0, (int)Math.Min(chunk.Length, size - done));
        }
        fs.Flush(flushToDisk: true);
    }

    public static void WarmPageCache(string path, long size)
    {
        var chunk = new byte[1 << 20];
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        for (long done = 0; done < size;)
        {
            int n = fs.Read(chunk, 0, chunk.Length);
            if (n <= 0) break;
            done += n;
        }
    }
}
