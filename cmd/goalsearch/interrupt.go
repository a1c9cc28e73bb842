package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interruptible makes Ctrl-C (or SIGTERM) once close stop, so running
// trials stop after their current epoch (what says what happens to them),
// and a second one cancel the returned context, aborting them. The
// returned function releases the signal handler.
func interruptible(ctx context.Context, s streams, what string) (context.Context, chan struct{}, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; !ok {
			return
		}
		fmt.Fprintf(s.ErrOut, "\nstopping: %s; Ctrl-C again to abort them\n", what)
		close(stop)
		if _, ok := <-sig; ok {
			cancel()
		}
	}()
	return ctx, stop, func() {
		signal.Stop(sig)
		close(sig)
		cancel()
	}
}
