package tfmodel

// TensorFlow's shared libraries log from their static initializers, before any Go code runs: on
// CPUs where oneDNN is on by default (Intel with AVX-512 or AMX; not AMD Zen 3) every program that
// links them printed "I tensorflow/core/util/port.cc:153] oneDNN custom operations are on ..." as
// its first line, and no call of ours can be wrapped in QuietStderr that early. TF_CPP_MIN_LOG_LEVEL
// would have to be in the environment before the process starts.
//
// So the executable holds stderr in a memory file from its .preinit_array (which the dynamic linker
// runs before any shared library's initializers) and releases it from its own constructor (which
// runs after all of them and before the Go runtime starts): the window covers the libraries'
// initializers and nothing of ours, not even the Go runtime's crash output. Lines at TensorFlow's
// INFO level are kept for Options.TensorFlowLogs (StartupLog); anything else (a warning, an error,
// a fatal message) is written to the real stderr at once, so no library failure is hidden.

/*
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int facenet_held_log = -1;
static int facenet_real_stderr = -1;
static char *facenet_startup_info;

static void facenet_hold_stderr(int argc, char **argv, char **envp) {
	(void)argc; (void)argv; (void)envp;
	int log = memfd_create("tensorflow-startup-log", MFD_CLOEXEC);
	if (log < 0) return;
	int real = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (real < 0 || dup2(log, 2) < 0) {
		if (real >= 0) close(real);
		close(log);
		return;
	}
	facenet_held_log = log;
	facenet_real_stderr = real;
}

__attribute__((used, section(".preinit_array")))
static void (*facenet_preinit)(int, char **, char **) = facenet_hold_stderr;

// facenet_is_info: a TensorFlow LOG(INFO) line ("2026-12-03 14:14:23.169486: I tensorflow/...")
// or an absl INFO line ("I0000 00:00:...").
static int facenet_is_info(const char *line, size_t n) {
	if (n >= 2 && line[0] == 'I' && line[1] >= '0' && line[1] <= '9') return 1;
	for (size_t i = 0; i + 3 < n && i < 40; i++) {
		if (line[i] == ':' && line[i+1] == ' ') return line[i+2] == 'I' && line[i+3] == ' ';
	}
	return 0;
}

static void facenet_write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) return;
		p += w;
		n -= (size_t)w;
	}
}

__attribute__((constructor))
static void facenet_release_stderr(void) {
	if (facenet_held_log < 0) return;
	dup2(facenet_real_stderr, 2);
	close(facenet_real_stderr);
	off_t size = lseek(facenet_held_log, 0, SEEK_END);
	char *buf = size > 0 ? malloc((size_t)size + 1) : NULL;
	size_t got = 0;
	if (buf != NULL) {
		while (got < (size_t)size) {
			ssize_t r = pread(facenet_held_log, buf + got, (size_t)size - got, (off_t)got);
			if (r <= 0) break;
			got += (size_t)r;
		}
	}
	close(facenet_held_log);
	if (buf == NULL) return;
	// Keep the INFO lines, in order, in place; pass every other line through.
	size_t kept = 0;
	for (size_t i = 0; i < got;) {
		char *nl = memchr(buf + i, '\n', got - i);
		size_t end = nl ? (size_t)(nl - buf) + 1 : got;
		if (facenet_is_info(buf + i, end - i)) {
			memmove(buf + kept, buf + i, end - i);
			kept += end - i;
		} else {
			facenet_write_all(2, buf + i, end - i);
		}
		i = end;
	}
	buf[kept] = 0;
	facenet_startup_info = buf;
}

static const char *facenet_startup_log(void) { return facenet_startup_info; }
*/
import "C"

// StartupLog is what TensorFlow's libraries logged at INFO level while they initialized, before the
// program started (for example oneDNN's "custom operations are on" notice); the root package
// prints it when Options.TensorFlowLogs asks for TensorFlow's logs. Warnings and errors from that
// time are not here: they went to stderr as they were written.
func StartupLog() string {
	p := C.facenet_startup_log()
	if p == nil {
		return ""
	}
	return C.GoString(p)
}
