using System.Diagnostics.CodeAnalysis;

namespace LinuxEvent.Hosting;

/// <summary>An <see cref="ILoopService"/> type to instantiate once per loop (registered by AddLoopService).</summary>
internal sealed class LoopServiceRegistration(
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type serviceType)
{
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)]
    public Type ServiceType { get; } = serviceType;
}
