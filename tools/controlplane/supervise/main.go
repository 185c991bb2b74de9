// Command supervise runs one child process and guarantees it does not outlive the process
// that started the supervisor (the Node test runner, the demo, a benchmark).
//
// Why: Node cannot set PR_SET_PDEATHSIG on its children, and a test process killed with
// SIGKILL runs no cleanup. The supervisor polls its parent pid; when it is reparented (the
// parent died, however) or receives SIGTERM/SIGINT, it terminates the child's whole process
// group, waits, removes the directories named by --cleanup, and exits.
//
// Usage: supervise [--cleanup DIR]... [--grace 5s] -- COMMAND [ARGS...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type dirList []string

func (d *dirList) String() string     { return strings.Join(*d, ",") }
func (d *dirList) Set(v string) error { *d = append(*d, v); return nil }

func main() {
	var cleanup dirList
	flag.Var(&cleanup, "cleanup", "directory to remove after the child exits (repeatable)")
	grace := flag.Duration("grace", 5*time.Second, "time between SIGTERM and SIGKILL")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "supervise: no command given")
		os.Exit(2)
	}

	parent := os.Getppid()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	// Own process group, so the whole tree of the child can be signalled at once, and a
	// kernel-level death signal in case this supervisor itself is SIGKILLed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "supervise: start %s: %v\n", args[0], err)
		removeAll(cleanup)
		os.Exit(127)
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()

	code := 0
loop:
	for {
		select {
		case err := <-exited:
			code = exitCode(err)
			break loop
		case <-signals:
			code = terminate(cmd, exited, *grace)
			break loop
		case <-tick.C:
			if os.Getppid() != parent {
				code = terminate(cmd, exited, *grace)
				break loop
			}
		}
	}
	removeAll(cleanup)
	os.Exit(code)
}

func terminate(cmd *exec.Cmd, exited <-chan error, grace time.Duration) int {
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case err := <-exited:
		return exitCode(err)
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return exitCode(<-exited)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		return 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
	}
	return 1
}

func removeAll(dirs []string) {
	for _, d := range dirs {
		if d != "" && d != "/" {
			_ = os.RemoveAll(d)
		}
	}
}
