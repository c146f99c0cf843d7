using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.Hosting.Tests;

/// <summary>Records every log entry (thread-safe) so tests can assert on what the hosting layer logged.</summary>
public sealed class TestLoggerProvider : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, Exception? Exception, string Message,
        IReadOnlyDictionary<string, object?> Values);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    /// <summary>The hosted service's entries with <paramref name="eventId"/> (its LoggerMessage ids).</summary>
    public IReadOnlyList<Entry> WithEvent(int eventId)
        => _entries.Where(e => e.EventId.Id == eventId && e.Category == typeof(LinuxEventHostedService).FullName).ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(TestLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, object?>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
                foreach (var kv in pairs) values[kv.Key] = kv.Value;
            owner._entries.Enqueue(new Entry(category, logLevel, eventId, exception, formatter(state, exception), values));
        }
    }
}
