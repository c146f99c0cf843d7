using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LinuxEvent.Net.Tests;

/// <summary>A self-signed certificate made at test time (never stored), and the SslStream options that trust it.</summary>
public static class TlsTestSupport
{
    private static readonly Lazy<X509Certificate2> s_certificate = new(Create);

    public static X509Certificate2 Certificate => s_certificate.Value;

    private static X509Certificate2 Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is a persisted-style key every platform's TLS accepts.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
    }

    public static SslServerAuthenticationOptions Server => new() { ServerCertificate = Certificate };

    public static SslClientAuthenticationOptions Client => new()
    {
        TargetHost = "localhost",
        // The test certificate is self-signed: trust exactly it, nothing else.
        RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == Certificate.GetCertHashString(),
    };
}
