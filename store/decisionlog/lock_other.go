//go:build !unix

package decisionlog

import (
	"errors"
	"os"
	"path/filepath"
)

var errLocked = errors.New("decisionlog: spool slot in use")

// lockDir creates dir/LOCK exclusively; a lock left by a crashed process must be removed by hand.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, errLocked
	}
	return f, err
}

func unlockDir(f *os.File) {
	if f != nil {
		name := f.Name()
		f.Close()
		_ = os.Remove(name)
	}
}
