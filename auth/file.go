package auth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"arbiter/engine/lang"
	"arbiter/internal/strictyaml"
)

// keysFile is the keys file's document: YAML, or JSON (which YAML reads too).
type keysFile struct {
	Keys []Key `yaml:"keys"`
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// FileKeys keeps keys in a YAML or JSON file, read again whenever it changes on disk, so an edit
// (a revocation) applies to the next request.
type FileKeys struct {
	path string
	mu   sync.Mutex
	mod  time.Time
	size int64
	keys map[string]Key
	err  error
}

// NewFileKeys reads the keys file at path; it must exist and be valid.
func NewFileKeys(path string) (*FileKeys, error) {
	f := &FileKeys{path: path}
	if _, err := f.current(); err != nil {
		return nil, err
	}
	return f, nil
}

// Lookup implements KeyStore.
func (f *FileKeys) Lookup(_ context.Context, id string) (Key, error) {
	keys, err := f.current()
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	k, ok := keys[id]
	if !ok {
		return Key{}, ErrUnknownKey
	}
	return k, nil
}

// current returns the file's keys, reading it again when its size or modification time changed;
// an unreadable or invalid file refuses every key until it is fixed.
func (f *FileKeys) current() (map[string]Key, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys != nil && st.ModTime().Equal(f.mod) && st.Size() == f.size {
		return f.keys, nil
	}
	list, err := ReadKeysFile(f.path)
	if err != nil {
		f.keys, f.err = nil, err
		return nil, err
	}
	keys := make(map[string]Key, len(list))
	for _, k := range list {
		keys[k.ID] = k
	}
	f.keys, f.mod, f.size, f.err = keys, st.ModTime(), st.Size(), nil
	return keys, nil
}

// ReadKeysFile reads and checks a keys file; a missing file has no keys.
func ReadKeysFile(path string) ([]Key, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	var doc keysFile
	var ps lang.Problems
	if len(strings.TrimSpace(string(raw))) > 0 && !strictyaml.Decode(path, raw, &doc, &ps) {
		return nil, fmt.Errorf("keys file: %s", ps.List[0].String())
	}
	seen := map[string]bool{}
	for i, k := range doc.Keys {
		where := fmt.Sprintf("%s: keys[%d]", path, i)
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("%s: id %q is not 16 lower-case hex digits", where, k.ID)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("%s: id %s is listed twice", where, k.ID)
		}
		seen[k.ID] = true
		if len(k.SHA256) != 64 || strings.ToLower(k.SHA256) != k.SHA256 {
			return nil, fmt.Errorf("%s: sha256 must be 64 lower-case hex digits", where)
		}
		if _, err := ParseScopes(k.Scopes); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	return doc.Keys, nil
}

// WriteKeysFile replaces the keys file atomically (a temporary file renamed over it).
func WriteKeysFile(path string, keys []Key) error {
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreatedAt.Before(keys[j].CreatedAt) })
	raw, err := yaml.Marshal(keysFile{Keys: keys})
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	header := "# arbiter API keys: SHA-256 digests only; manage with `arbiter keys --file " + filepath.Base(path) + "`.\n"
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(header + string(raw)); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	return nil
}
