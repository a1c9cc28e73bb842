package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

// defaultStore is where studies live unless --store says otherwise.
const defaultStore = "goalsearch.db"

func addStoreFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "store", defaultStore, "the study store (a bbolt file)")
}

// openStore opens the store file; readOnly commands share the file with
// other readers but not with a running search.
func openStore(path string, readOnly bool) (store.Store, error) {
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store at %s (run 'goalsearch search' first, or pass --store)", path)
		}
	}
	return boltstore.Open(path, &boltstore.Options{ReadOnly: readOnly})
}
