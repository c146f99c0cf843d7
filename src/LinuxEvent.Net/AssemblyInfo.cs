// LinuxEvent.Net builds on Linux-only kernel interfaces (epoll, io_uring, pidfd, posix_spawn) through LinuxEvent.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
