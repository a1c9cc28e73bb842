package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"goalsearch/dashboard"
	"goalsearch/store"
)

// defaultDashboardAddr is where the dashboard listens unless --addr says
// otherwise: loopback only.
const defaultDashboardAddr = "127.0.0.1:8080"

// tokenEnv may hold the token instead of --token, which other users of the
// machine could read in the process list.
const tokenEnv = "GOALSEARCH_DASHBOARD_TOKEN"

type dashboardOptions struct {
	Store string
	Addr  string
	Token string
}

func newDashboardCmd(s streams) *cobra.Command {
	o := &dashboardOptions{}
	cmd := &cobra.Command{
		Use:   "dashboard [--store S] [--addr 127.0.0.1:8080] [--token T]",
		Short: "Serve a live, read-only view of a store's studies in the browser",
		Long: `dashboard serves the studies of a store to a browser: optimisation history,
every trial's learning curve, parallel coordinates and the importance of the
goal weights, the trial table, each trial's goal and atoms, evaluation studies
with their seeds, and on PostgreSQL the workers' leases. The page updates
every second; it never changes the store.

It listens on 127.0.0.1 only. To listen on another address give --token (or
` + tokenEnv + `): every request then needs it, and the address printed
includes it.

It reads a bbolt file beside the search that writes it, as status and trials
do, and a PostgreSQL store from anywhere while any number of workers run.
'goalsearch search --dashboard 127.0.0.1:8080' serves the same page from the
search itself.`,
		Example: `  goalsearch dashboard --store goalsearch.db      # beside a running search, in another terminal
  goalsearch search --study demo --setup sphere --trials 200 --sleep 2s --dashboard 127.0.0.1:8080
  goalsearch dashboard --store "$GOALSEARCH_PG" --addr 0.0.0.0:8080 --token "$(openssl rand -hex 16)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDashboard(cmd.Context(), o, s)
		},
	}
	addStoreFlag(cmd, &o.Store)
	cmd.Flags().StringVar(&o.Addr, "addr", defaultDashboardAddr, "HOST:PORT to listen on (port 0: any free port)")
	cmd.Flags().StringVar(&o.Token, "token", "", "a secret every request must carry; needed to listen beyond loopback (default $"+tokenEnv+")")
	return cmd
}

func runDashboard(ctx context.Context, o *dashboardOptions, s streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Token == "" {
		o.Token = os.Getenv(tokenEnv)
	}
	// Check the address before opening the store, so a refused address
	// holds nothing.
	if err := dashboard.CheckAddr(o.Addr, o.Token); err != nil {
		return usagef("--addr %w%s", err, tokenHint(err, "--token"))
	}
	st, err := openStore(o.Store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := dashboard.Listen(o.Addr, o.Token)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", o.Addr, err)
	}
	// One Ctrl-C is enough: the dashboard has nothing to finish.
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(s.ErrOut, "dashboard of %s: %s (read-only; Ctrl-C stops it)\n", storeName(o.Store, st), dashboard.URL(ln, o.Token))
	h := dashboard.New(st, dashboard.Options{Token: o.Token, Store: storeName(o.Store, st)})
	return dashboard.Serve(ctx, ln, h)
}

// startDashboard serves the dashboard of st from a running command (search
// --dashboard) until the returned function is called.
func startDashboard(s streams, st store.Store, path, addr, token string) (func(), error) {
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	ln, err := dashboard.Listen(addr, token)
	if err != nil {
		return nil, fmt.Errorf("--dashboard %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h := dashboard.New(st, dashboard.Options{Token: token, Store: storeName(path, st)})
		if err := dashboard.Serve(ctx, ln, h); err != nil {
			fmt.Fprintf(s.ErrOut, "goalsearch: dashboard: %v\n", err)
		}
	}()
	fmt.Fprintf(s.ErrOut, "dashboard: %s (read-only; it stops with the search)\n", dashboard.URL(ln, token))
	return func() { cancel(); <-done }, nil
}

// tokenHint says where a token comes from when err is for want of one.
func tokenHint(err error, flag string) string {
	if errors.Is(err, dashboard.ErrNotLoopback) {
		return fmt.Sprintf(" (the token: %s or $%s)", flag, tokenEnv)
	}
	return ""
}
