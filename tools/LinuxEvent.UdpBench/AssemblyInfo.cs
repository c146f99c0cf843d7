// The benchmark drives Linux-only kernel interfaces (epoll, io_uring) through LinuxEvent.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
