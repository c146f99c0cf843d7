using LinuxEvent.Kernel;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using LinuxEvent.Native;
using TL = Tmds.Linux;

namespace LinuxEvent.Tests;

/// <summary>
/// Native/ checked against Tmds.LibC 0.5.0, a second, independently written set of Linux bindings (it ships one
/// assembly per architecture; the one for this process is loaded). Every constant that both define has the same value,
/// the structs both declare have the same size and the same offset and width for every field both name, and the
/// sockaddr encodings read back through Tmds.LibC's structs. NativeLayoutTests compares struct sizes with the C
/// headers; this adds field offsets and constant values. Tmds.LibC dates from 2020 and has its own errors (its
/// siginfo_t swaps si_code and si_errno), so it is a cross-check, not a reference: see docs/design.md, Dependencies.
/// </summary>
public class TmdsLibcCrossCheckTests : FdCheckedTest
{
    /// <summary>Constants Tmds.LibC defines too: if one of these stops being compared (renamed, moved out of Native/),
    /// the cross-check has lost its subject.</summary>
    private static readonly string[] s_mustCompare =
    [
        "O_NONBLOCK", "O_CLOEXEC", "O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND",
        "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "FD_CLOEXEC",
        "EPOLL_CLOEXEC", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD", "EPOLLIN", "EPOLLOUT", "EPOLLERR", "EPOLLHUP",
        "EPOLLRDHUP", "EPOLLONESHOT", "EPOLLET", "EPOLLEXCLUSIVE", "EFD_CLOEXEC", "EFD_NONBLOCK",
        "AF_UNIX", "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM", "SOCK_NONBLOCK", "SOCK_CLOEXEC",
        "SOL_SOCKET", "SO_REUSEADDR", "SO_ERROR", "SO_SNDBUF", "SO_RCVBUF", "SO_REUSEPORT", "IPPROTO_TCP", "TCP_NODELAY",
        "IPPROTO_IPV6", "IPV6_V6ONLY", "SHUT_WR", "MSG_NOSIGNAL", "MSG_DONTWAIT", "POLLIN", "POLLOUT", "POLLRDHUP",
        "SIG_BLOCK", "SIG_SETMASK", "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "MAP_SHARED", "MAP_POPULATE", "PROT_READ",
        "EPERM", "ENOENT", "ESRCH", "EINTR", "EBADF", "EAGAIN", "ENOMEM", "EEXIST", "EINVAL", "EMFILE", "EPIPE", "ENOSYS",
        "ETIME", "ENOTSOCK", "EADDRINUSE", "ECONNABORTED", "ECONNRESET", "ENOBUFS", "ETIMEDOUT", "ECONNREFUSED",
        "EINPROGRESS", "ECANCELED",
        "IORING_OP_NOP", "IORING_OP_POLL_ADD", "IORING_OP_TIMEOUT", "IORING_OP_ACCEPT", "IORING_OP_ASYNC_CANCEL",
        "IORING_OP_CONNECT", "IORING_OP_CLOSE", "IORING_OP_READ", "IORING_OP_WRITE", "IORING_OP_SEND", "IORING_OP_RECV",
        "IORING_OP_SPLICE", "IORING_OP_PROVIDE_BUFFERS", "IORING_OP_REMOVE_BUFFERS",
        "IOSQE_IO_LINK", "IOSQE_ASYNC", "IOSQE_BUFFER_SELECT", "IORING_SETUP_SQPOLL", "IORING_SETUP_CQSIZE",
        "IORING_SETUP_CLAMP", "IORING_SETUP_ATTACH_WQ", "IORING_FEAT_SINGLE_MMAP", "IORING_FEAT_NODROP",
        "IORING_FEAT_FAST_POLL", "IORING_ENTER_GETEVENTS", "IORING_CQE_F_BUFFER", "IORING_CQE_BUFFER_SHIFT",
        "IORING_TIMEOUT_ABS", "IORING_OFF_SQ_RING", "IORING_OFF_CQ_RING", "IORING_OFF_SQES",
        "IORING_REGISTER_BUFFERS", "IORING_REGISTER_EVENTFD", "IORING_REGISTER_PROBE", "IO_URING_OP_SUPPORTED",
    ];

    /// <summary>Every integral constant declared in namespace LinuxEvent.Native, and the public <see cref="Errno"/>
    /// table, with the type that declares it.</summary>
    private static IEnumerable<(string Name, string Owner, object Value)> NativeConstants() =>
        typeof(Libc).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(Libc).Namespace || t == typeof(Errno))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType.IsPrimitive)
                .Select(f => (f.Name, t.Name, f.GetRawConstantValue()!)));

    /// <summary>Tmds.LibC exposes its constants as static properties of <c>LibC</c> (values of the loaded architecture).</summary>
    private static object? TmdsConstant(string name) =>
        typeof(TL.LibC).GetProperty(name, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
        ?? typeof(TL.LibC).GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetValue(null);

    /// <summary>The bit pattern of an integral value at its own width (so uint 0x80000000 equals int.MinValue), through
    /// the implicit conversion for Tmds.LibC's typedef structs such as sa_family_t.</summary>
    private static ulong Bits(object value) => value switch
    {
        byte b => b, sbyte b => (byte)b, short s => (ushort)s, ushort s => s, int i => (uint)i, uint i => i,
        long l => (ulong)l, ulong l => l,
        _ => Bits(value.GetType().GetMethods(BindingFlags.Public | BindingFlags.Static)
            .FirstOrDefault(m => m.Name is "op_Implicit" or "op_Explicit" && m.ReturnType.IsPrimitive && m.GetParameters()[0].ParameterType == value.GetType())
            ?.Invoke(null, [value]) ?? throw new NotSupportedException($"no integral view of {value.GetType()}")),
    };

    [Test]
    public void EveryConstantBothDefineHasTheSameValue()
    {
        var compared = new HashSet<string>();
        var onlyHere = new SortedSet<string>();
        foreach (var (name, owner, value) in NativeConstants())
        {
            var theirs = TmdsConstant(name);
            if (theirs is null) { onlyHere.Add(name); continue; }
            ulong theirBits;
            try { theirBits = Bits(theirs); }
            catch (NotSupportedException) { onlyHere.Add(name + "(" + theirs.GetType().Name + ")"); continue; }
            Assert.That(Bits(value), Is.EqualTo(theirBits), $"{owner}.{name} = {value}, Tmds.LibC has {theirs}");
            compared.Add(name);
        }
        Assert.That(compared, Is.SupersetOf(s_mustCompare));
        TestContext.Out.WriteLine($"{compared.Count} constants agree with Tmds.LibC ({typeof(TL.LibC).Assembly.Location}); {onlyHere.Count} are not in it: {string.Join(' ', onlyHere)}");
    }

    /// <summary>Instance fields by C name: C# property backing fields are named &lt;x&gt;k__BackingField, and
    /// Native/ spells a few fields in PascalCase.</summary>
    private static Dictionary<string, FieldInfo> FieldsByCName(Type t) =>
        t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
            .ToDictionary(f => f.Name.StartsWith('<') ? f.Name[1..f.Name.IndexOf('>')] : f.Name, StringComparer.OrdinalIgnoreCase);

    private static void AssertSameLayout(Type ours, Type theirs, params string[] mustShare)
    {
        Assert.That(Marshal.SizeOf(ours), Is.EqualTo(Marshal.SizeOf(theirs)), $"sizeof({theirs.Name})");
        var theirFields = FieldsByCName(theirs);
        var shared = new List<string>();
        foreach (var (name, field) in FieldsByCName(ours))
        {
            if (!theirFields.TryGetValue(name, out var other)) continue;
            Assert.That(Marshal.OffsetOf(ours, field.Name), Is.EqualTo(Marshal.OffsetOf(theirs, other.Name)), $"offsetof({theirs.Name}, {name})");
            Assert.That(Marshal.SizeOf(field.FieldType), Is.EqualTo(Marshal.SizeOf(other.FieldType)), $"sizeof({theirs.Name}.{name})");
            shared.Add(name);
        }
        Assert.That(shared, Is.SupersetOf(mustShare).Using((IEqualityComparer<string>)StringComparer.OrdinalIgnoreCase), $"fields compared in {theirs.Name}");
    }

    [Test]
    public void IoUringStructsHaveTheSameFieldOffsets()
    {
        AssertSameLayout(typeof(IoUringSqe), typeof(TL.io_uring_sqe),
            "opcode", "flags", "ioprio", "fd", "off", "addr2", "addr", "splice_off_in", "len", "rw_flags", "msg_flags",
            "timeout_flags", "accept_flags", "cancel_flags", "splice_flags", "user_data", "buf_index", "buf_group",
            "personality", "splice_fd_in");
        AssertSameLayout(typeof(IoUringCqe), typeof(TL.io_uring_cqe), "user_data", "res", "flags");
        AssertSameLayout(typeof(IoUringParams), typeof(TL.io_uring_params),
            "sq_entries", "cq_entries", "flags", "sq_thread_cpu", "sq_thread_idle", "features", "wq_fd", "resv", "sq_off", "cq_off");
        AssertSameLayout(typeof(IoSqringOffsets), typeof(TL.io_sqring_offsets),
            "head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array", "resv1");
        // Tmds.LibC predates the CQ ring's flags word (5.8): it still calls offset 24 resv.
        AssertSameLayout(typeof(IoCqringOffsets), typeof(TL.io_cqring_offsets), "head", "tail", "ring_mask", "ring_entries", "overflow", "cqes");
        AssertSameLayout(typeof(IoUringProbe), typeof(TL.io_uring_probe), "last_op", "ops_len", "resv", "resv2");
        AssertSameLayout(typeof(IoUringProbeOp), typeof(TL.io_uring_probe_op), "op", "resv", "flags", "resv2");
    }

    [Test]
    public void LibcStructsAndBufferSizesAgree()
    {
        AssertSameLayout(typeof(Libc.Timespec), typeof(TL.timespec), "tv_sec", "tv_nsec");
        AssertSameLayout(typeof(Libc.PollFd), typeof(TL.pollfd), "fd", "events", "revents");
        Assert.That(Epoll.EventSize, Is.EqualTo(Marshal.SizeOf<TL.epoll_event>()), "sizeof(epoll_event) on this architecture");
        Assert.That(Epoll.DataOffset, Is.EqualTo((int)Marshal.OffsetOf<TL.epoll_event>("data")), "offsetof(epoll_event, data)");
        Assert.That(Libc.SigSetBytes, Is.EqualTo(Marshal.SizeOf<TL.sigset_t>()), "sizeof(sigset_t)");
        Assert.That(Libc.CpuSetBytes, Is.EqualTo(Marshal.SizeOf<TL.cpu_set_t>()), "sizeof(cpu_set_t)");
        Assert.That(SockAddr.MaxSize, Is.EqualTo(Marshal.SizeOf<TL.sockaddr_storage>()), "sizeof(sockaddr_storage)");
    }

    [Test]
    public void SockAddrEncodingsReadBackThroughTmdsStructs()
    {
        var buf = new byte[SockAddr.MaxSize];

        var v4 = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 8080);
        Assert.That(SockAddr.Write(v4, buf), Is.EqualTo(Marshal.SizeOf<TL.sockaddr_in>()));
        var sin = MemoryMarshal.Read<TL.sockaddr_in>(buf);
        Assert.That(Bits(sin.sin_family), Is.EqualTo(Bits(TL.LibC.AF_INET)));
        Assert.That(sin.sin_port, Is.EqualTo((ushort)IPAddress.HostToNetworkOrder((short)8080)), "sin_port in network order");
        Assert.That(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref sin.sin_addr, 1)).ToArray(), Is.EqualTo(v4.Address.GetAddressBytes()));

        var v6 = new IPEndPoint(IPAddress.Parse("fe80::1:2%3"), 443);
        Assert.That(SockAddr.Write(v6, buf), Is.EqualTo(Marshal.SizeOf<TL.sockaddr_in6>()));
        var sin6 = MemoryMarshal.Read<TL.sockaddr_in6>(buf);
        Assert.That(Bits(sin6.sin6_family), Is.EqualTo(Bits(TL.LibC.AF_INET6)));
        Assert.That(sin6.sin6_port, Is.EqualTo((ushort)IPAddress.HostToNetworkOrder((short)443)));
        Assert.That(sin6.sin6_scope_id, Is.EqualTo(3u));
        Assert.That(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref sin6.sin6_addr, 1)).ToArray(), Is.EqualTo(v6.Address.GetAddressBytes()));

        const string path = "/run/linuxevent/cross-check.sock";
        int len = SockAddr.Write(new UnixDomainSocketEndPoint(path), buf);
        Assert.That(len, Is.EqualTo(TL.sockaddr_un.sun_path_offset + path.Length + 1), "family, path and its NUL");
        var sun = MemoryMarshal.Read<TL.sockaddr_un>(buf);
        Assert.That(Bits(sun.sun_family), Is.EqualTo(Bits(TL.LibC.AF_UNIX)));
        Assert.That(System.Text.Encoding.ASCII.GetString(buf, TL.sockaddr_un.sun_path_offset, path.Length), Is.EqualTo(path));
        Assert.That(path.Length + 1, Is.LessThanOrEqualTo(TL.sockaddr_un.sun_path_length));
    }

    [Test]
    public void AddressesBuiltWithTmdsStructsDecode()
    {
        var sin6 = new TL.sockaddr_in6 { sin6_family = TL.LibC.AF_INET6, sin6_port = (ushort)IPAddress.HostToNetworkOrder((short)5353), sin6_scope_id = 7 };
        var addr = IPAddress.Parse("fe80::abcd");
        addr.GetAddressBytes().CopyTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref sin6.sin6_addr, 1)));
        var bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref sin6, 1));
        Assert.That(SockAddr.Read(bytes, bytes.Length), Is.EqualTo(new IPEndPoint(IPAddress.Parse("fe80::abcd%7"), 5353)));

        var sin = new TL.sockaddr_in { sin_family = TL.LibC.AF_INET, sin_port = (ushort)IPAddress.HostToNetworkOrder((short)80) };
        IPAddress.Loopback.GetAddressBytes().CopyTo(MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref sin.sin_addr, 1)));
        bytes = MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref sin, 1));
        Assert.That(SockAddr.Read(bytes, bytes.Length), Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 80)));
    }
}
