// The transport runs on LinuxEvent loops, which build on Linux-only kernel interfaces (epoll, io_uring).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
