namespace LinuxEvent;

/// <summary>The type of a file, from the S_IFMT bits of its mode (<see cref="FileStatus.Type"/>).</summary>
public enum FileType
{
    /// <summary>Not reported, or a type this enum does not know.</summary>
    Unknown,
    /// <summary>S_IFREG.</summary>
    RegularFile,
    /// <summary>S_IFDIR.</summary>
    Directory,
    /// <summary>S_IFLNK (seen only when the link itself is queried: statx with AT_SYMLINK_NOFOLLOW).</summary>
    SymbolicLink,
    /// <summary>S_IFCHR.</summary>
    CharacterDevice,
    /// <summary>S_IFBLK.</summary>
    BlockDevice,
    /// <summary>S_IFIFO.</summary>
    Fifo,
    /// <summary>S_IFSOCK.</summary>
    Socket,
}
