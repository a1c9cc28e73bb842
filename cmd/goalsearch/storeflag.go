package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"goalsearch/store"
	"goalsearch/store/boltstore"
	"goalsearch/store/pgstore"
)

// defaultStore is where studies live unless --store says otherwise.
const defaultStore = "goalsearch.db"

func addStoreFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "store", defaultStore, "the study store: a bbolt file, or a PostgreSQL database postgres://...")
}

// openStore opens the store that --store names: a postgres:// or
// postgresql:// URL opens the PostgreSQL backend (shared by any number of
// processes), anything else a bbolt file. readOnly commands read a file
// beside the search that writes it; a file has one writer at a time.
func openStore(path string, readOnly bool) (store.Store, error) {
	return openStoreLease(path, readOnly, 0)
}

// openStoreLease is openStore with the lease of a PostgreSQL store's
// running trials (0: pgstore.DefaultLease); files have no leases.
func openStoreLease(path string, readOnly bool, lease time.Duration) (store.Store, error) {
	if pgstore.IsDSN(path) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return pgstore.Open(ctx, path, &pgstore.Options{Lease: lease})
	}
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s (run 'goalsearch search' first, or pass --store)", path)
		}
	}
	if readOnly {
		// A Reader works beside a running search: it asks the search's
		// process, or reads the file when none has it open.
		r, err := boltstore.OpenReader(path, nil)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	st, err := boltstore.Open(path, nil)
	if errors.Is(err, store.ErrLocked) {
		// Most often a search or evaluation is running on the file: say
		// what the user can do instead of waiting for it.
		return nil, fmt.Errorf("%w; a goalsearch process (a search, worker or evaluation) is probably running on it, "+
			"and a file has one writer: watch it with 'goalsearch status' or 'trials', which read beside it, "+
			"stop it with Ctrl-C, or keep studies in PostgreSQL (--store postgres://...) to run several workers", err)
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// storeName is how messages name a store: the file, or the database
// without its password.
func storeName(path string, st store.Store) string {
	if s, ok := st.(fmt.Stringer); ok && pgstore.IsDSN(path) {
		return s.String()
	}
	return path
}
