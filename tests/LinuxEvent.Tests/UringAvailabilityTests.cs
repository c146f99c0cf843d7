using LinuxEvent.Proactor.Uring;

namespace LinuxEvent.Tests;

/// <summary>
/// When io_uring cannot be used, creating a proactor fails with a message that says so, says why, and names the
/// reactor as the alternative. The kernel conditions (ENOSYS, EPERM from seccomp or io_uring_disabled) cannot be
/// produced on this machine without disabling io_uring for every other process, so the mapping from the setup errno
/// is tested directly.
/// </summary>
public class UringAvailabilityTests : FdCheckedTest
{
    [TestCase(38, "does not implement io_uring_setup")]
    [TestCase(1, "io_uring is unavailable")]
    [TestCase(13, "io_uring is unavailable")]
    public void UnavailableIoUringNamesTheCauseAndTheReactorAlternative(int errno, string cause)
    {
        var ex = UringRing.SetupFailure(errno, 256, 0x3390);
        Assert.That(ex, Is.InstanceOf<LinuxEventUnsupportedException>());
        Assert.That(ex.Errno, Is.EqualTo(errno));
        Assert.That(ex.Call, Does.StartWith("io_uring_setup(entries=256"));
        Assert.That(ex.Message, Does.Contain(cause));
        Assert.That(ex.Message, Does.Contain("Loop.CreateReactor()"));
    }
}
