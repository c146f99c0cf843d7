using System.Runtime.InteropServices;
using LinuxEvent.Native;
using LinuxEvent.Kernel;

namespace LinuxEvent.Tests;

/// <summary>Struct layouts checked against the kernel headers through a C probe compiled by gcc during the run.</summary>
public class NativeLayoutTests : FdCheckedTest
{
    private static Dictionary<string, int> Probe()
    {
        string dir = Path.Combine(Path.GetTempPath(), "linuxevent-probe-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "probe.c"), """
                #include <stdio.h>
                #include <stddef.h>
                #include <sys/epoll.h>
                #include <sys/signalfd.h>
                #include <signal.h>
                #include <time.h>
                #include <linux/io_uring.h>
                #include <sys/socket.h>
                #include <sys/uio.h>
                int main(void) {
                  printf("epoll_event=%zu\n", sizeof(struct epoll_event));
                  printf("epoll_event.data=%zu\n", offsetof(struct epoll_event, data));
                  printf("signalfd_siginfo=%zu\n", sizeof(struct signalfd_siginfo));
                  printf("siginfo_t=%zu\n", sizeof(siginfo_t));
                  printf("siginfo.si_pid=%zu\n", offsetof(siginfo_t, si_pid));
                  printf("siginfo.si_status=%zu\n", offsetof(siginfo_t, si_status));
                  printf("sigset_t=%zu\n", sizeof(sigset_t));
                  printf("io_uring_sqe=%zu\n", sizeof(struct io_uring_sqe));
                  printf("io_uring_cqe=%zu\n", sizeof(struct io_uring_cqe));
                  printf("io_uring_params=%zu\n", sizeof(struct io_uring_params));
                  printf("msghdr=%zu\n", sizeof(struct msghdr));
                  printf("msghdr.msg_iov=%zu\n", offsetof(struct msghdr, msg_iov));
                  printf("msghdr.msg_control=%zu\n", offsetof(struct msghdr, msg_control));
                  printf("msghdr.msg_flags=%zu\n", offsetof(struct msghdr, msg_flags));
                  printf("iovec=%zu\n", sizeof(struct iovec));
                  printf("cmsghdr=%zu\n", sizeof(struct cmsghdr));
                  printf("CMSG_LEN4=%zu\n", (size_t)CMSG_LEN(4));
                  printf("CMSG_SPACE4=%zu\n", (size_t)CMSG_SPACE(4));
                  printf("MSG_TRUNC=%d\n", MSG_TRUNC);
                  printf("MSG_CTRUNC=%d\n", MSG_CTRUNC);
                  printf("MSG_CMSG_CLOEXEC=%d\n", MSG_CMSG_CLOEXEC);
                  printf("SCM_RIGHTS=%d\n", SCM_RIGHTS);
                  return 0;
                }
                """);
            // Run gcc and the probe with this library's own spawn + pidfd (System.Diagnostics.Process would add
            // runtime-owned pipes and its own child reaping to the test process).
            Assert.That(RunToExit("gcc", new[] { "-o", $"{dir}/probe", $"{dir}/probe.c" }, null), Is.Zero, "gcc built the layout probe");
            string output = "";
            Assert.That(RunToExit($"{dir}/probe", Array.Empty<string>(), s => output = s), Is.Zero);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('='))
                .ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Spawns a program, collects its stdout through a watched pipe, and returns its exit code.</summary>
    internal static int RunToExit(string program, string[] args, Action<string>? stdout)
    {
        using var loop = Loop.CreateReactor();
        var (r, w) = Posix.Pipe();
        var output = new System.Text.StringBuilder();
        bool eof = false;
        ProcessExit? exit = null;
        try
        {
            int pid = Posix.Spawn(program, args, fdMap: new[] { (w, 1) });
            Posix.Close(w);
            w = -1;
            loop.Watch(r, WatchOptions.Read, wt =>
            {
                var buf = new byte[4096];
                int n = Posix.TryRead(wt.Fd, buf);
                if (n > 0) output.Append(System.Text.Encoding.UTF8.GetString(buf, 0, n));
                else if (n == 0) { eof = true; wt.Cancel(); }
            }, null);
            loop.WatchProcess(pid, (_, e) => exit = e);
            loop.RunUntil(() => eof && exit is not null, TimeSpan.FromSeconds(60));
        }
        finally
        {
            Posix.Close(r);
            if (w >= 0) Posix.Close(w);
        }
        stdout?.Invoke(output.ToString());
        return exit!.Value.ExitCode;
    }

    [Test]
    public void LayoutsMatchTheCHeaders()
    {
        var c = Probe();
        Assert.That(Epoll.EventSize, Is.EqualTo(c["epoll_event"]), "sizeof(struct epoll_event)");
        Assert.That(Epoll.DataOffset, Is.EqualTo(c["epoll_event.data"]), "offsetof(epoll_event, data)");
        Assert.That(c["signalfd_siginfo"], Is.EqualTo(128), "ReadSignalFd strides 128 bytes");
        Assert.That(c["siginfo_t"], Is.EqualTo(128));
        Assert.That(c["siginfo.si_pid"], Is.EqualTo(16), "waitid decoding reads si_pid at 16");
        Assert.That(c["siginfo.si_status"], Is.EqualTo(24), "waitid decoding reads si_status at 24");
        Assert.That(c["sigset_t"], Is.EqualTo(Libc.SigSetBytes));
        Assert.That(Marshal.SizeOf<Libc.Timespec>(), Is.EqualTo(16));
        foreach (var (name, size, expected) in UringNative.StructSizes())
            Assert.That(size, Is.EqualTo(expected), name);
        Assert.That(c["io_uring_sqe"], Is.EqualTo(64));
        Assert.That(c["io_uring_cqe"], Is.EqualTo(16));
        Assert.That(c["io_uring_params"], Is.EqualTo(120));
        Assert.That(Marshal.SizeOf<MsgHdr>(), Is.EqualTo(c["msghdr"]), "sizeof(struct msghdr)");
        Assert.That((int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.msg_iov)), Is.EqualTo(c["msghdr.msg_iov"]));
        Assert.That((int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.msg_control)), Is.EqualTo(c["msghdr.msg_control"]));
        Assert.That((int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.msg_flags)), Is.EqualTo(c["msghdr.msg_flags"]));
        Assert.That(Marshal.SizeOf<IoVec>(), Is.EqualTo(c["iovec"]), "sizeof(struct iovec)");
        Assert.That(Marshal.SizeOf<CmsgHdr>(), Is.EqualTo(c["cmsghdr"]), "sizeof(struct cmsghdr)");
        Assert.That(CmsgHdr.Length(4), Is.EqualTo(c["CMSG_LEN4"]), "CMSG_LEN(4)");
        Assert.That(CmsgHdr.Space(4), Is.EqualTo(c["CMSG_SPACE4"]), "CMSG_SPACE(4)");
        Assert.That(Libc.MSG_TRUNC, Is.EqualTo(c["MSG_TRUNC"]));
        Assert.That(Libc.MSG_CTRUNC, Is.EqualTo(c["MSG_CTRUNC"]));
        Assert.That(Libc.MSG_CMSG_CLOEXEC, Is.EqualTo(c["MSG_CMSG_CLOEXEC"]));
        Assert.That(Libc.SCM_RIGHTS, Is.EqualTo(c["SCM_RIGHTS"]));
    }

    [Test]
    public void EpollEventSizeIsKnownPerArchitecture()
    {
        int expected = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
        Assert.That(Epoll.EventSize, Is.EqualTo(expected));
    }

    [Test]
    public void ErrnoNamesAndMessages()
    {
        var ex = new LinuxEventException(111, "connect(fd=5)");
        Assert.That(ex.ErrnoName, Is.EqualTo("ECONNREFUSED"));
        Assert.That(ex.Message, Does.StartWith("connect(fd=5) failed: ECONNREFUSED (111): Connection refused"));
        Assert.That(ex, Is.InstanceOf<IOException>());
        Assert.That(new LinuxEventException(4095, "x").ErrnoName, Is.EqualTo("E4095"));
    }

    [Test]
    public void EveryFdTheLibraryOpensIsCloseOnExec()
    {
        var before = Fds.List().ToHashSet();
        var reactor = Loop.CreateReactor();
        var (r, w) = Posix.Pipe();
        var (a, b) = Posix.SocketPair();
        var sub = reactor.Signal(10, (_, _) => { });
        var pid = reactor.WatchProcess(Environment.ProcessId, (_, _) => { });
        try
        {
            var opened = Fds.List().Where(f => !before.Contains(f)).ToList();
            Assert.That(opened, Has.Count.GreaterThanOrEqualTo(8), "epoll, eventfd, signalfd, pidfd, 2 pipe ends, 2 sockets");
            foreach (var f in opened)
            {
                int fd = int.Parse(Path.GetFileName(f), System.Globalization.CultureInfo.InvariantCulture);
                int flags = Libc.Fcntl(fd, Libc.F_GETFD, 0);
                if (flags < 0) continue;    // the directory listing's own fd
                Assert.That(flags & Libc.FD_CLOEXEC, Is.EqualTo(Libc.FD_CLOEXEC), $"fd {fd} ({new FileInfo(f).LinkTarget}) is close-on-exec");
            }
        }
        finally
        {
            pid.Cancel();
            sub.Cancel();
            reactor.Dispose();
            Posix.Close(r); Posix.Close(w); Posix.Close(a); Posix.Close(b);
        }
    }
}
