// Package cli turns a command's run function into a process: every golem command is
// `run(args, stdout, stderr) error` (so tests call it directly), and main only hands the
// result to Main, which prints the error and picks the exit status.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// ExitCode ends the process with this status and prints nothing more: pretrain returns 130
// or 143 after SIGINT or SIGTERM, so scripts can tell an interrupted run from a finished one.
type ExitCode int

func (c ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// UsageError is a wrong call (an unknown flag, a missing argument): exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Parse parses flags into fs (which should be flag.ContinueOnError): -h comes back as
// flag.ErrHelp (exit 0, the flags already printed), anything else the flag package refuses
// as a UsageError.
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return UsageError{err}
}

// Main runs run on the process's arguments and exits: 0 on success or -h, 2 for a
// UsageError, the code of an ExitCode, else 1 after printing "name: error" to stderr.
func Main(name string, run func(args []string, stdout, stderr io.Writer) error) {
	os.Exit(Exit(name, run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// Exit is the exit status for what run returned, printing the error (if any) to stderr.
func Exit(name string, err error, stderr io.Writer) int {
	var code ExitCode
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.As(err, new(UsageError)) {
		return 2
	}
	return 1
}
