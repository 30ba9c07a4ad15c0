package tfmodel

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// withoutProfilingSignal runs f on a thread that blocks SIGPROF, so the threads TensorFlow starts
// in f (its intra- and inter-op pools, created with the session) inherit the block. Go's CPU
// profiler sends SIGPROF process-wide to reach threads it did not create; delivered to
// TensorFlow's pool threads it made glibc abort ("corrupted size vs. prev_size") in 6 of 10
// profiled runs on an AMD EPYC. With the pools blocking it, the kernel delivers it to Go's own
// threads instead, so profiles still cover the Go side, and TensorFlow's time shows as the cgo
// call that waits for it.
func withoutProfilingSignal(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set, old unix.Sigset_t
	sigaddset(&set, unix.SIGPROF)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		f()
		return
	}
	defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
	f()
}

// sigaddset is sigaddset(3): x/sys/unix has the type but not the helper.
func sigaddset(set *unix.Sigset_t, sig unix.Signal) {
	n := uint(sig) - 1
	bits := uint(unsafe.Sizeof(set.Val[0])) * 8
	set.Val[n/bits] |= 1 << (n % bits)
}
