/* Child processes of a testenv run. SIGCHLD, SIGINT, SIGTERM and SIGHUP
 * are blocked in the tool and taken synchronously with sigtimedwait(), so
 * waiting with a timeout, reaping and forwarding a ^C are one loop with no
 * signal handlers. Children get the original mask back before exec. */
#include "testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigset_t kwt_orig_mask;
static sigset_t kwt_wait_set;
static int kwt_tty_taken;

int
kwt_proc_init_signals(void)
{
	sigemptyset(&kwt_wait_set);
	sigaddset(&kwt_wait_set, SIGCHLD);
	sigaddset(&kwt_wait_set, SIGINT);
	sigaddset(&kwt_wait_set, SIGTERM);
	sigaddset(&kwt_wait_set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &kwt_wait_set, &kwt_orig_mask) != 0)
		return -1;
	signal(SIGTTOU, SIG_IGN); /* tcsetpgrp() from the background */
	signal(SIGPIPE, SIG_IGN);
	/* COMMAND's orphans become our children: we can end them safely
	 * (a pid stays ours until we reap it) instead of leaking them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

void
kwt_proc_restore_signals(void)
{
	signal(SIGTTOU, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &kwt_orig_mask, NULL);
}

static void
kwt_proc_child_io(const char *log)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	if (log == NULL)
		return;
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return;
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static void
kwt_proc_child(char *const argv[], const char *log, int flags, pid_t parent)
{
	setpgid(0, 0);
	if (flags & KWT_SPAWN_DAEMON) {
		kwt_proc_child_io(log);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	} else {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
	}
	if (getppid() != parent)
		_exit(127); /* the tool died before prctl() */
	kwt_proc_restore_signals();
	if (flags & KWT_SPAWN_SEARCH)
		execvp(argv[0], argv);
	else
		execv(argv[0], argv);
	fprintf(stderr, "keyward-testenv: cannot execute %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

int
kwt_proc_spawn(struct kwt_proc *p, char *const argv[], const char *log,
    int flags)
{
	pid_t parent = getpid();
	pid_t pid;

	memset(p, 0, sizeof(*p));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		kwt_msg("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		kwt_proc_child(argv, log, flags, parent);
	setpgid(pid, pid); /* also in the child: no race either way */
	p->pid = pid;
	return 0;
}

static void
kwt_proc_record(struct kwt_proc *p, pid_t pid, int status)
{
	if (p->pid != pid || p->reaped)
		return;
	p->reaped = 1;
	p->status = status;
}

static void
kwt_proc_reap(struct kwt_env *env)
{
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		kwt_proc_record(&env->pcscd, pid, status);
		kwt_proc_record(&env->dbus, pid, status);
		kwt_proc_record(&env->cmd, pid, status);
		for (i = 0; i < env->opt.tokens; i++)
			kwt_proc_record(&env->tok[i].proc, pid, status);
	}
}

int
kwt_proc_wait_event(struct kwt_env *env, int ms)
{
	struct timespec ts;
	siginfo_t si;
	int sig;

	if (ms < 0) {
		sig = sigwaitinfo(&kwt_wait_set, &si);
	} else {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		sig = sigtimedwait(&kwt_wait_set, &si, &ts);
	}
	if (sig < 0)
		return 0; /* EAGAIN (timeout) or EINTR */
	if (sig == SIGCHLD)
		kwt_proc_reap(env);
	else
		env->got_signal = sig;
	return sig;
}

static int
kwt_proc_running(const struct kwt_proc *p)
{
	return p->pid > 0 && !p->reaped;
}

static void
kwt_proc_signal(struct kwt_proc *p, int sig)
{
	if (!kwt_proc_running(p))
		return;
	p->stopping = 1;
	kill(p->pid, sig);
}

long long
kwt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
kwt_proc_tokens_running(const struct kwt_env *env)
{
	int i, n = 0;

	for (i = 0; i < env->opt.tokens; i++)
		n += kwt_proc_running(&env->tok[i].proc);
	return n;
}

/* The tokens (tokens != 0) or the daemons (pcscd, dbus-daemon). */
static int
kwt_proc_group_running(const struct kwt_env *env, int tokens)
{
	return tokens ? kwt_proc_tokens_running(env) :
	    kwt_proc_running(&env->pcscd) || kwt_proc_running(&env->dbus);
}

/* Send sig, wait up to the grace period; 1 if some still run. */
static int
kwt_proc_group_end(struct kwt_env *env, int tokens, int sig)
{
	long long deadline = kwt_now_ms() + KWT_STOP_GRACE_MS;
	int i;

	if (tokens) {
		for (i = 0; i < env->opt.tokens; i++)
			kwt_proc_signal(&env->tok[i].proc, sig);
	} else {
		kwt_proc_signal(&env->pcscd, sig);
		kwt_proc_signal(&env->dbus, sig);
	}
	while (kwt_proc_group_running(env, tokens) && kwt_now_ms() < deadline)
		kwt_proc_wait_event(env, 100);
	return kwt_proc_group_running(env, tokens);
}

static void
kwt_proc_stop_group(struct kwt_env *env, int tokens)
{
	if (!kwt_proc_group_end(env, tokens, SIGTERM))
		return;
	kwt_msg("warning: %s did not stop on SIGTERM within %d ms: killing",
	    tokens ? "a token" : "pcscd or dbus-daemon", KWT_STOP_GRACE_MS);
	kwt_proc_group_end(env, tokens, SIGKILL);
}

/* Processes COMMAND left behind (reparented to us, see PR_SET_CHILD_
 * SUBREAPER): SIGKILL them. /proc/self/task/TID/children lists them; the
 * pids cannot be reused before we reap them. */
static int
kwt_proc_kill_children(void)
{
	char path[64];
	FILE *f;
	long pid;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)getpid());
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
			n++;
	fclose(f);
	return n;
}

static void
kwt_proc_end_orphans(struct kwt_env *env)
{
	long long deadline = kwt_now_ms() + KWT_STOP_GRACE_MS;
	int n;

	while ((n = kwt_proc_kill_children()) > 0 && kwt_now_ms() < deadline)
		kwt_proc_wait_event(env, 50);
	if (n > 0)
		kwt_msg("warning: %d leftover process(es) would not end", n);
}

void
kwt_proc_stop_all(struct kwt_env *env)
{
	long long deadline;

	if (kwt_proc_running(&env->cmd)) {
		env->cmd.stopping = 1;
		kill(-env->cmd.pid, SIGTERM);
		deadline = kwt_now_ms() + KWT_STOP_GRACE_MS;
		while (kwt_proc_running(&env->cmd) && kwt_now_ms() < deadline)
			kwt_proc_wait_event(env, 100);
		if (kwt_proc_running(&env->cmd))
			kill(-env->cmd.pid, SIGKILL);
		while (kwt_proc_running(&env->cmd))
			kwt_proc_wait_event(env, 100);
	}
	kwt_proc_stop_group(env, 1);
	kwt_proc_stop_group(env, 0);
	kwt_proc_end_orphans(env);
}

void
kwt_proc_describe(const struct kwt_proc *p, char *out, size_t outsz)
{
	if (!p->reaped)
		snprintf(out, outsz, "is running");
	else if (WIFEXITED(p->status))
		snprintf(out, outsz, "exited with status %d",
		    WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(out, outsz, "was killed by signal %d (%s)",
		    WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
	else
		snprintf(out, outsz, "ended with status 0x%x", p->status);
}

/* Did a daemon end in a way that points at a bug (crash, sanitizer
 * report, error exit)? A SIGTERM/SIGINT/SIGKILL from someone else is a
 * test's business, not a failure. */
int
kwt_proc_abnormal(const struct kwt_proc *p)
{
	int sig;

	if (!p->reaped)
		return 0;
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status) != 0;
	sig = WTERMSIG(p->status);
	if (sig == SIGKILL && p->stopping)
		return 1; /* ignored our SIGTERM */
	return sig != SIGTERM && sig != SIGINT && sig != SIGKILL;
}

/* Interactive use: let COMMAND's process group own the terminal so ^C and
 * job control reach it, as a shell would. */
void
kwt_proc_take_terminal(pid_t pgrp)
{
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return;
	if (tcsetpgrp(STDIN_FILENO, pgrp) == 0)
		kwt_tty_taken = 1;
}

void
kwt_proc_give_back_terminal(void)
{
	if (kwt_tty_taken)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	kwt_tty_taken = 0;
}
