using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LinuxEvent.Hosting;

// The per-loop half of the hosted service: what runs on each loop's thread, and what happens when a loop dies.
public sealed partial class LinuxEventHostedService
{
    /// <summary>LoopGroup's factory, on loop <paramref name="index"/>'s thread.</summary>
    private Loop CreateLoop(int index)
    {
        var loop = _options.CreateLoop();
        // Before any setup code runs, so nothing thrown on this loop goes unlogged.
        loop.UnhandledException = (l, ex) => Log.UnhandledException(_logger, ex, index, l.BackendName);
        return loop;
    }

    /// <summary>LoopGroup's setup, on the loop's thread: loop services, then the setup delegate, then the watchdog.</summary>
    private void SetUpLoop(Loop loop, int index)
    {
        var hosted = new HostedLoop(loop, index, _options.LoopCount, _services, _activated);
        try
        {
            foreach (var registration in _loopServices)
            {
                var service = (ILoopService)ActivatorUtilities.CreateInstance(_services, registration.ServiceType, hosted);
                hosted.AddService(service);
                service.Start();
            }
            _options.Setup?.Invoke(hosted);
            if (_watchdog is { } rounds)
            {
                // Checking in at once as well as from the timer: the first ping follows the start without waiting a
                // period, and a restarted loop rejoins the current round straight away.
                var notifier = _notifier!;
                loop.Every(_watchdogPeriod, _ => CheckIn(rounds, notifier, index));
                CheckIn(rounds, notifier, index);
            }
        }
        catch
        {
            hosted.Teardown();
            throw;
        }
        // A full fence, paired with BeginDrain's: a loop set up (restarted) while the host begins to stop is either
        // seen by BeginDrain or sees _stopping here, so it drains too.
        Interlocked.Exchange(ref _hosted[index], hosted);
        if (Volatile.Read(ref _stopping) != 0) loop.Post(static (_, s) => ((HostedLoop)s!).BeginDrain(), hosted);
    }

    private void CheckIn(Systemd.WatchdogRounds rounds, Systemd.SystemdNotifier notifier, int index)
    {
        if (!rounds.CheckIn(index)) return;
        // One warning per run of failures: a manager that stopped reading must not turn every ping into a log line.
        if (notifier.Send("WATCHDOG=1", out var error)) Volatile.Write(ref _watchdogFailing, 0);
        else if (Interlocked.Exchange(ref _watchdogFailing, 1) == 0) Log.NotifyFailed(_logger, notifier.Address, error, "WATCHDOG=1");
    }

    private int _watchdogFailing;

    /// <summary>LoopGroup's teardown, on the loop's thread after its Run returned.</summary>
    private void TearDownLoop(Loop loop, int index)
    {
        var hosted = Volatile.Read(ref _hosted[index]);
        if (hosted is not null && ReferenceEquals(hosted.Loop, loop)) hosted.Teardown();
    }

    /// <summary>LoopGroup's failure report, on the dead loop's thread after it was torn down and disposed.</summary>
    private void OnLoopFailed(LoopGroup group, int index, Exception error)
    {
        if (Volatile.Read(ref _stopping) != 0)
        {
            // After the drain, StopAsync stops each loop itself: that is the expected end, not news.
            if (Volatile.Read(ref _aborting) == 0) Log.EndedWhileStopping(_logger, index);
            return;
        }
        string backend = group.Loops[index].BackendName;
        Log.LoopDied(_logger, error, index, backend);
        if (_options.FailurePolicy == LoopFailurePolicy.Restart)
        {
            if (TryCountRestart())
            {
                Log.Restarting(_logger, index, backend);
                // Restart joins this thread, so it runs elsewhere; this thread ends right after returning.
                _ = Task.Run(() => Restart(group, index));
                return;
            }
            Log.TooManyRestarts(_logger, index, _options.MaxRestarts + 1, _options.RestartWindow);
        }
        StopApplication(index);
    }

    private void Restart(LoopGroup group, int index)
    {
        try
        {
            group.Restart(index);
            Log.Restarted(_logger, index);
        }
        catch (InvalidOperationException) when (Volatile.Read(ref _stopping) != 0 || group.IsStopping)
        {
            Log.EndedWhileStopping(_logger, index);
        }
        catch (Exception ex)
        {
            Log.RestartFailed(_logger, ex, index);
            StopApplication(index);
        }
    }

    /// <summary>True if one more restart fits in the window (and records it).</summary>
    private bool TryCountRestart()
    {
        lock (_lock)
        {
            var now = DateTime.UtcNow;
            while (_restarts.Count > 0 && now - _restarts.Peek() > _options.RestartWindow) _restarts.Dequeue();
            if (_restarts.Count >= _options.MaxRestarts) return false;
            _restarts.Enqueue(now);
            return true;
        }
    }

    /// <summary>A dead loop stops the application with a failure exit code, so a supervisor sees it.</summary>
    private void StopApplication(int index)
    {
        Environment.ExitCode = _options.FailureExitCode;
        Log.StoppingApplication(_logger, index, _options.FailureExitCode);
        _lifetime.StopApplication();
    }
}
