// LinuxEvent calls Linux-only kernel interfaces (epoll, io_uring, signalfd, pidfd) throughout.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
