namespace LinuxEvent;

/// <summary>fallocate(2) modes (FALLOC_FL_*, the same values on every architecture). Not every file system supports
/// every mode: an unsupported one fails with EOPNOTSUPP.</summary>
[Flags]
public enum FallocateMode
{
    /// <summary>Allocate (and zero) the range, growing the file if the range ends past its size.</summary>
    Default = 0,
    /// <summary>FALLOC_FL_KEEP_SIZE: allocate blocks but leave the file size unchanged.</summary>
    KeepSize = 0x01,
    /// <summary>FALLOC_FL_PUNCH_HOLE: deallocate the range (reads return zeros); requires <see cref="KeepSize"/>.</summary>
    PunchHole = 0x02,
    /// <summary>FALLOC_FL_COLLAPSE_RANGE: remove the range, shifting the rest of the file down.</summary>
    CollapseRange = 0x08,
    /// <summary>FALLOC_FL_ZERO_RANGE: zero the range (allocating it).</summary>
    ZeroRange = 0x10,
    /// <summary>FALLOC_FL_INSERT_RANGE: insert a hole of the range's length at its offset, shifting the rest up.</summary>
    InsertRange = 0x20,
}
