using Microsoft.Extensions.Logging;

namespace LinuxEvent.Hosting;

/// <summary>The hosting layer's log messages (source-generated: no allocation when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Unhandled exception on loop {LoopIndex} ({LoopBackend}); the loop keeps running")]
    public static partial void UnhandledException(ILogger logger, Exception exception, int loopIndex, string loopBackend);

    [LoggerMessage(2, LogLevel.Critical, "Loop {LoopIndex} ({LoopBackend}) died")]
    public static partial void LoopDied(ILogger logger, Exception exception, int loopIndex, string loopBackend);

    [LoggerMessage(3, LogLevel.Information, "{LoopCount} {LoopModel} loops running ({LoopBackend})")]
    public static partial void LoopsRunning(ILogger logger, int loopCount, LoopModel loopModel, string loopBackend);

    [LoggerMessage(4, LogLevel.Information, "Socket activation: {Socket}")]
    public static partial void Activated(ILogger logger, ActivatedSocket socket);

    [LoggerMessage(5, LogLevel.Information, "Draining {LoopCount} loops (deadline {Deadline})")]
    public static partial void Draining(ILogger logger, int loopCount, string deadline);

    [LoggerMessage(6, LogLevel.Warning, "Drain deadline passed: closed {Connections} connections still open on loop {LoopIndex}")]
    public static partial void ClosedAtDeadline(ILogger logger, int connections, int loopIndex);

    [LoggerMessage(7, LogLevel.Information, "Loops stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(8, LogLevel.Critical, "Loop {LoopIndex} did not stop within {Timeout}; leaving its thread behind")]
    public static partial void StuckAtStop(ILogger logger, int loopIndex, TimeSpan timeout);

    [LoggerMessage(9, LogLevel.Error, "Loops ended with errors")]
    public static partial void StopErrors(ILogger logger, Exception exception);

    [LoggerMessage(10, LogLevel.Warning, "Restarting loop {LoopIndex} ({LoopBackend})")]
    public static partial void Restarting(ILogger logger, int loopIndex, string loopBackend);

    [LoggerMessage(11, LogLevel.Information, "Loop {LoopIndex} restarted")]
    public static partial void Restarted(ILogger logger, int loopIndex);

    [LoggerMessage(12, LogLevel.Critical, "Stopping the application after loop {LoopIndex} died (exit code {ExitCode})")]
    public static partial void StoppingApplication(ILogger logger, int loopIndex, int exitCode);

    [LoggerMessage(13, LogLevel.Critical, "Restarting loop {LoopIndex} failed")]
    public static partial void RestartFailed(ILogger logger, Exception exception, int loopIndex);

    [LoggerMessage(14, LogLevel.Warning, "sd_notify to {NotifySocket} failed ({Error}): {State}")]
    public static partial void NotifyFailed(ILogger logger, string notifySocket, System.Net.Sockets.SocketError error, string state);

    [LoggerMessage(15, LogLevel.Information, "systemd watchdog: pinging every {Period} once every loop has checked in")]
    public static partial void WatchdogOn(ILogger logger, TimeSpan period);

    [LoggerMessage(16, LogLevel.Debug, "Loop {LoopIndex} ended while the host stops")]
    public static partial void EndedWhileStopping(ILogger logger, int loopIndex);

    [LoggerMessage(17, LogLevel.Critical, "The loops failed to start")]
    public static partial void StartFailed(ILogger logger, Exception exception);

    [LoggerMessage(18, LogLevel.Warning, "Loop {LoopIndex} died {Restarts} times within {Window}: not restarting it")]
    public static partial void TooManyRestarts(ILogger logger, int loopIndex, int restarts, TimeSpan window);
}
