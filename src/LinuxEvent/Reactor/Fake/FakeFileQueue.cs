using LinuxEvent.Files;

namespace LinuxEvent.Reactor;

/// <summary>
/// The fake reactor's stand-in for the worker pool: no thread and no syscall; file requests wait here, in submission
/// order, until the test settles them through <see cref="FakeReadiness"/>.
/// </summary>
internal sealed class FakeFileQueue
{
    private readonly List<FakeFileOperation> _pending = new();

    public IReadOnlyList<FakeFileOperation> Pending => _pending;

    public void Add(FileRequest r) => _pending.Add(new FakeFileOperation(r));

    /// <summary>Removes the pending operation of <paramref name="r"/>; false if it is not pending.</summary>
    public bool Remove(FileRequest r)
    {
        for (int i = 0; i < _pending.Count; i++)
        {
            if (!ReferenceEquals(_pending[i].Request, r)) continue;
            _pending[i].Request = null;
            _pending.RemoveAt(i);
            return true;
        }
        return false;
    }

    /// <summary>Takes <paramref name="op"/>'s request for settlement; null if it is not pending here.</summary>
    public FileRequest? Take(FakeFileOperation op)
    {
        if (op.Request is not { } r || !_pending.Remove(op)) return null;
        op.Request = null;
        return r;
    }

    /// <summary>Removes the pending requests on <paramref name="fd"/> (not opens or statx by path, whose fd is a directory).</summary>
    public List<FileRequest>? RemoveFd(int fd)
    {
        List<FileRequest>? removed = null;
        for (int i = 0; i < _pending.Count; i++)
        {
            var op = _pending[i];
            if (op.FileDescriptor != fd || op.Kind == OperationKind.OpenAt || op.Path is not null) continue;
            (removed ??= new()).Add(op.Request!);
            op.Request = null;
            _pending.RemoveAt(i--);
        }
        return removed;
    }

    public List<FileRequest> RemoveAll()
    {
        var all = new List<FileRequest>(_pending.Count);
        foreach (var op in _pending)
        {
            all.Add(op.Request!);
            op.Request = null;
        }
        _pending.Clear();
        return all;
    }
}
