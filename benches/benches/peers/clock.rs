//! The two clocks every timed part reads: wall-clock time (what criterion
//! reports) and the thread's CPU time (what the table reports by default:
//! on a shared machine it leaves out the time other processes held the
//! core, though not their effect on the caches).

use std::time::{Duration, Instant};

/// One timed part, on both clocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    /// Wall-clock time.
    pub wall: Duration,
    /// CPU time of the measuring thread (user and system, page faults
    /// included); equal to `wall` where the platform has no thread clock.
    pub cpu: Duration,
}

/// A running measurement.
pub struct Stopwatch {
    /// When it started, on the wall clock.
    wall: Instant,
    /// When it started, on the thread's CPU clock.
    cpu: Option<Duration>,
}

impl Stopwatch {
    /// Starts both clocks.
    #[inline]
    pub fn start() -> Self {
        let cpu = thread_cpu_time();
        Stopwatch {
            wall: Instant::now(),
            cpu,
        }
    }

    /// Stops both clocks.
    #[inline]
    pub fn stop(self) -> Timing {
        let wall = self.wall.elapsed();
        let cpu = match (self.cpu, thread_cpu_time()) {
            (Some(start), Some(end)) => end.saturating_sub(start),
            _ => wall,
        };
        Timing { wall, cpu }
    }
}

/// The calling thread's CPU time, where the platform has a clock for it
/// (a system call here: about 0.6 µs).
#[cfg(unix)]
pub fn thread_cpu_time() -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through the pointer,
    // which is valid for writes and lives across the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| Duration::new(now.tv_sec as u64, now.tv_nsec as u32))
}

/// The calling thread's CPU time: not available here.
#[cfg(not(unix))]
pub fn thread_cpu_time() -> Option<Duration> {
    None
}
