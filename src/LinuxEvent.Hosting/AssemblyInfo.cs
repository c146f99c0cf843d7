// LinuxEvent.Hosting runs LinuxEvent loops (epoll, io_uring) and speaks systemd's Linux-only protocols.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
