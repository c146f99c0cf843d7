using System.Globalization;

namespace LinuxEvent.Simulation;

public sealed partial class Simulator
{
    private readonly PriorityQueue<SimEvent, (long Time, long Sequence)> _events = new();
    private readonly List<SimHost> _runnable = new();
    private long _eventSequence;
    private long _instant = -1;
    private int _stepsThisInstant;

    private enum StepResult : byte { Progress, Stalled, TimedOut }

    /// <summary>Queues a network event at virtual time <paramref name="at"/> (ties keep their scheduling order).</summary>
    internal void Schedule(long at, SimEvent e) => _events.Enqueue(e, (at, ++_eventSequence));

    /// <summary>
    /// Runs the simulation until <paramref name="condition"/> holds (checked before every scheduler step) and returns
    /// true. Returns false, with a failure recorded, when it cannot: nothing is left to happen (the run stalled), the
    /// virtual <paramref name="timeout"/> passed, a loop threw, or the scenario already failed.
    /// </summary>
    /// <param name="condition">What the run waits for (evaluated on this thread, between loop iterations).</param>
    /// <param name="timeout">Virtual time allowed.</param>
    /// <param name="what">What is awaited, for the failure message (e.g. "every message delivered").</param>
    public bool RunUntil(Func<bool> condition, TimeSpan timeout, string what = "the condition")
    {
        ArgumentNullException.ThrowIfNull(condition);
        ObjectDisposedException.ThrowIf(_disposed, this);
        long limit = AddTime(NowNanoseconds, timeout);
        foreach (var h in _hosts) h.MarkDirty();          // the caller may have touched a loop between runs
        while (true)
        {
            if (_failure is not null) return false;
            if (condition()) return true;
            switch (Step(limit))
            {
                case StepResult.Stalled:
                    Fail($"stalled waiting for {what}: no host has work and nothing is scheduled ({DescribeState()})");
                    return false;
                case StepResult.TimedOut:
                    Fail($"timed out after {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s (virtual) waiting for {what} ({DescribeState()})");
                    return false;
            }
        }
    }

    /// <summary>Runs the simulation for <paramref name="duration"/> of virtual time (or until a failure); a run with
    /// nothing left to do just lets the time pass.</summary>
    public void RunFor(TimeSpan duration)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long limit = AddTime(NowNanoseconds, duration);
        foreach (var h in _hosts) h.MarkDirty();
        while (_failure is null)
        {
            if (Step(limit) != StepResult.Progress)
            {
                Clock.AdvanceTo(limit);
                return;
            }
        }
    }

    /// <summary>One scheduler decision: run one host that has work (chosen by the seed), or move time forward.</summary>
    private StepResult Step(long limit)
    {
        long now = NowNanoseconds;
        if (now != _instant)
        {
            _instant = now;
            _stepsThisInstant = 0;
        }
        else if (++_stepsThisInstant > Options.MaxStepsPerInstant)
        {
            Fail($"livelock: {Options.MaxStepsPerInstant} scheduler steps without the clock moving ({DescribeState()})");
            return StepResult.Progress;
        }

        _runnable.Clear();
        foreach (var h in _hosts)
            if (h.HasWork(now)) _runnable.Add(h);
        if (_runnable.Count > 0)
        {
            RunHost(_runnable[_schedule.Next(_runnable.Count)]);
            return StepResult.Progress;
        }

        long next = long.MaxValue;
        if (_events.TryPeek(out _, out var due)) next = due.Time;
        foreach (var h in _hosts)
            if (h.NextTimerDeadline is { } d && d < next) next = d;
        if (next == long.MaxValue) return StepResult.Stalled;
        if (next > limit) return StepResult.TimedOut;
        if (_faults.Chance(Faults.ClockJump))
        {
            long jump = _faults.NextInRange(1_000_000, Math.Max(1_000_000, Faults.MaxClockJump.Ticks * 100));
            if (now + jump > next)
            {
                next = now + jump;
                Trace.Write($"fault clock-jump +{jump / 1_000_000}ms");
            }
        }
        Clock.AdvanceTo(next);
        while (_events.TryPeek(out var e, out var at) && at.Time <= next)
        {
            _events.Dequeue();
            Fire(e);
        }
        return StepResult.Progress;
    }

    private void RunHost(SimHost host)
    {
        host.Prepare();
        int n;
        try
        {
            n = host.Loop.RunOnce(TimeSpan.Zero);
        }
        catch (Exception ex)
        {
            Fail($"{host.Name}: the loop threw {ex.GetType().Name}: {ex.Message}", ex);
            return;
        }
        if (n > 0)
        {
            Trace.Write($"run {host.Name} {n}");
            CheckLifecycle();                             // closes and shutdowns the callbacks made
            host.MarkDirty();                             // it may have queued more work for its next iteration
        }
        else host.AfterIdleIteration();
    }

    private static long AddTime(long ns, TimeSpan t)
    {
        long add = t.Ticks > long.MaxValue / 100 ? long.MaxValue : Math.Max(0, t.Ticks) * 100;
        return ns > long.MaxValue - add ? long.MaxValue : ns + add;
    }

    private string DescribeState()
    {
        var open = DescribeOpenSockets();
        return $"t={Elapsed.TotalSeconds.ToString("0.000###", CultureInfo.InvariantCulture)}s, {_events.Count} events queued, open sockets: "
            + (open.Count == 0 ? "none" : string.Join("; ", open));
    }
}
