using System.Reflection;

namespace LinuxEvent.Tests;

/// <summary>
/// Every public exception type of the library has the three standard constructors (.NET design guidelines, CA1032), and
/// each keeps what it is given: serializers, mocking libraries and test code create exceptions that way.
/// </summary>
public class ExceptionConstructorTests : FdCheckedTest
{
    private static IEnumerable<Type> ExceptionTypes() => typeof(Loop).Assembly.GetExportedTypes()
        .Where(t => typeof(Exception).IsAssignableFrom(t) && !t.IsAbstract);

    [Test]
    public void TheLibraryHasPublicExceptionTypes() =>
        Assert.That(ExceptionTypes().Select(t => t.Name), Is.SupersetOf(new[]
        {
            nameof(LinuxEventException), nameof(LinuxEventSocketException), nameof(LinuxEventUnsupportedException),
            nameof(DatagramTruncatedException),
        }));

    [TestCaseSource(nameof(ExceptionTypes))]
    public void HasTheStandardConstructors(Type type)
    {
        var inner = new InvalidOperationException("inner");
        var empty = (Exception)Activator.CreateInstance(type)!;
        Assert.That(empty.Message, Is.Not.Empty);
        var withMessage = (Exception)Activator.CreateInstance(type, "a message")!;
        Assert.That(withMessage.Message, Is.EqualTo("a message"));
        var ctor = type.GetConstructor(BindingFlags.Public | BindingFlags.Instance, [typeof(string), typeof(Exception)]);
        Assert.That(ctor, Is.Not.Null, $"{type.Name}(string, Exception)");
        var wrapping = (Exception)ctor!.Invoke(["wrapped", inner]);
        Assert.That(wrapping.Message, Is.EqualTo("wrapped"));
        // SocketException has no inner-exception constructor: LinuxEventSocketException keeps it in Data.
        var kept = wrapping.InnerException ?? wrapping.Data["InnerException"];
        Assert.That(kept, Is.SameAs(inner));
    }
}
