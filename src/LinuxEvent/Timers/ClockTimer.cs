using LinuxEvent.Seam;

namespace LinuxEvent;

/// <summary>
/// A one-shot loop timer on a chosen <see cref="LoopClock"/>: <see cref="Loop.At(DateTimeOffset, Action{Loop}, Action{Loop}?)"/>
/// (wall-clock time, CLOCK_REALTIME), <see cref="Loop.After(TimeSpan, LoopClock, Action{Loop})"/> and
/// <see cref="Loop.At(LoopClock, long, Action{Loop})"/>. Its callback runs once on the loop thread when the clock
/// reaches the deadline, unless <see cref="Cancel"/> came first.
/// </summary>
/// <remarks>
/// <para><b>Both models</b> use a <see cref="TimerFd"/> on that clock, watched by the loop like its signalfd (epoll on the
/// reactor; a poll request on io_uring, then a read of the timerfd): the loop's ordinary timers ride on the wait's
/// timeout and so can only follow CLOCK_MONOTONIC. <see cref="FileDescriptor"/> exposes the timerfd while armed (do not
/// read it: that would take the expiration).</para>
/// <para><b>Wall clock set.</b> A wall-clock timer is armed with TFD_TIMER_CANCEL_ON_SET: if the wall clock is set (an
/// administrator, an NTP step, a resume from suspend) before the deadline, its <c>onWallClockSet</c> callback runs and
/// the timer stays armed for the same wall-clock time (a time the clock jumped past fires at once).</para>
/// <para><b>Fakes</b> run it on their virtual clocks: the realtime and boottime clocks move with the virtual monotonic
/// clock, and the tests set the wall clock (<c>SetWallClock</c>) or simulate a suspend (<c>Suspend</c>) through
/// <see cref="FakeCompletions"/> / <see cref="FakeReadiness"/>.</para>
/// <para>Loop thread only (created, cancelled, disposed); the loop's disposal releases it (the callback then never
/// runs).</para>
/// </remarks>
public sealed class ClockTimer : LoopComponent, IDisposable
{
    private readonly Action<Loop> _callback;
    private readonly Action<Loop>? _onWallClockSet;
    private TimerFd? _timerFd;
    private InternalWatch? _watch;
    private TimerHandle? _virtual;           // fakes: a monotonic loop timer at the equivalent virtual time

    internal ClockTimer(Loop loop, LoopClock clock, long deadlineNs, Action<Loop> callback, Action<Loop>? onWallClockSet) : base(loop)
    {
        Clock = clock;
        DeadlineNanoseconds = deadlineNs;
        _callback = callback;
        _onWallClockSet = onWallClockSet;
    }

    /// <summary>The clock the deadline is on.</summary>
    public LoopClock Clock { get; }

    /// <summary>The deadline on <see cref="Clock"/>, in nanoseconds (Realtime: since the Unix epoch).</summary>
    public long DeadlineNanoseconds { get; }

    /// <summary>True until it fired, was cancelled or the loop was disposed.</summary>
    public bool IsActive { get; private set; }

    /// <summary>How many times the wall clock was set while it was armed (Realtime timers made with a wall-clock
    /// callback).</summary>
    public int WallClockSetCount { get; private set; }

    /// <summary>The timerfd while armed on a real backend; -1 on the fakes and once inactive.</summary>
    public int FileDescriptor => _timerFd?.FileDescriptor ?? -1;

    /// <summary>Cancels the timer: its callback will not run. True the first time, false if it already fired or was
    /// cancelled.</summary>
    /// <exception cref="InvalidOperationException">Not on the loop's thread.</exception>
    public bool Cancel()
    {
        if (!IsActive) return false;
        Loop.CheckLoopThread("ClockTimer.Cancel");
        Release();
        return true;
    }

    /// <summary>Same as <see cref="Cancel"/>.</summary>
    public void Dispose() => Cancel();

    internal void Start()
    {
        if (Loop.IsFake)
        {
            IsActive = true;
            Loop.AddVirtualClockTimer(this);
            ScheduleVirtually();
        }
        else
        {
            var fd = new TimerFd(Clock);
            try
            {
                fd.ArmAt(DeadlineNanoseconds, cancelOnClockSet: _onWallClockSet is not null);
                _watch = Loop.Backend.WatchReadable(fd.FileDescriptor, static s => ((ClockTimer)s!).OnReadable(), this);
            }
            catch
            {
                fd.Dispose();
                throw;
            }
            _timerFd = fd;
            IsActive = true;
        }
        AttachToLoop();
    }

    /// <summary>Fakes: (re)schedules the monotonic loop timer standing for the deadline on the virtual clock, after
    /// the virtual wall clock was set or a suspend moved the boottime and realtime clocks.</summary>
    internal void ScheduleVirtually()
    {
        long now = Loop.GetClockNanoseconds(Clock);
        long mono = Loop.NowNanoseconds;
        long at = DeadlineNanoseconds <= now ? mono : Loop.SaturatingAdd(mono, DeadlineNanoseconds - now);
        _virtual?.Cancel();
        _virtual = Loop.At(at, this, static (_, t) => t.OnVirtualDue());
    }

    /// <summary>Fakes: the virtual wall clock was set.</summary>
    internal void OnVirtualWallClockSet()
    {
        if (!IsActive) return;
        if (_onWallClockSet is null) { ScheduleVirtually(); return; }
        // Queued, never inline from the test's call: the fakes' controls only move clocks; callbacks run from the loop.
        // The timer is rescheduled after the notification, so a deadline the clock jumped past fires after it, as on
        // the real path (which learns of the change from the read before it re-arms).
        Loop.Defer(static s =>
        {
            var t = (ClockTimer)s!;
            t.NotifyWallClockSet();
            if (t.IsActive) t.ScheduleVirtually();
        }, this);
    }

    private void OnVirtualDue()
    {
        if (!IsActive) return;
        if (Loop.GetClockNanoseconds(Clock) < DeadlineNanoseconds) { ScheduleVirtually(); return; }
        Fire();
    }

    private void OnReadable()
    {
        if (_timerFd is not { } fd) return;
        long expirations = fd.Read(out bool clockWasSet);
        if (clockWasSet)
        {
            // timerfd_read drops the expiration count when it reports the clock change and leaves re-evaluation to
            // user space ("we do not rearm the timer"): arm the same wall-clock deadline again, which also clears the
            // cancelled state (timerfd_setup_cancel), and expires at once if the clock jumped past it.
            fd.ArmAt(DeadlineNanoseconds, cancelOnClockSet: true);
            NotifyWallClockSet();
        }
        if (expirations > 0 && IsActive) Fire();
    }

    private void NotifyWallClockSet()
    {
        if (!IsActive) return;
        WallClockSetCount++;
        try { _onWallClockSet?.Invoke(Loop); }
        catch (Exception ex) { Loop.ReportException(ex); }
    }

    private void Fire()
    {
        Release();
        try { _callback(Loop); }
        catch (Exception ex) { Loop.ReportException(ex); }
    }

    private void Release()
    {
        IsActive = false;
        DetachFromLoop();
        _watch?.Cancel();
        _watch = null;
        _timerFd?.Dispose();
        _timerFd = null;
        if (_virtual is not null)
        {
            _virtual.Cancel();
            _virtual = null;
            Loop.RemoveVirtualClockTimer(this);
        }
    }

    /// <inheritdoc />
    protected internal override void OnLoopDisposing()
    {
        IsActive = false;
        _watch?.Cancel();
        _watch = null;
        _timerFd?.Dispose();
        _timerFd = null;
        _virtual = null;
    }
}
