// The simulation drives LinuxEvent's fake backends, which are Linux-only like the rest of the library.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
