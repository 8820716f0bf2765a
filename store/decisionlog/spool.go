package decisionlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// spool keeps records on disk while the database is unreachable: one file (segment) per batch, JSON
// lines, written whole (a temporary file renamed into place) and oldest first by name. It is bounded
// by the bytes of its segments.
type spool struct {
	dir  string
	max  int64
	lock *os.File // holds the slot's flock while the spool is open

	mu    sync.Mutex
	size  int64
	segs  []*segment        // oldest first
	index map[string]string // record id -> segment name
	seq   uint64
}

type segment struct {
	name string
	size int64
	ids  []string
}

// spooled is a record as one line of a segment.
type spooled struct {
	ID         string          `json:"id"`
	Decision   string          `json:"decision"`
	Version    string          `json:"version"`
	Outcome    string          `json:"outcome"`
	AsOf       time.Time       `json:"as_of"`
	RecordedAt time.Time       `json:"recorded_at"`
	Envelope   json.RawMessage `json:"envelope,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	Facts      json.RawMessage `json:"facts,omitempty"`
}

const segmentExt = ".jsonl"

// maxSlots bounds how many logs (processes) may spool under one folder at a time.
const maxSlots = 64

// openSpool claims the first slot under root that no running log holds (root/0, root/1, ...) and
// loads the segments a previous log left in it.
func openSpool(root string, max int64) (*spool, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("decisionlog: spool: %w", err)
	}
	for slot := 0; slot < maxSlots; slot++ {
		dir := filepath.Join(root, strconv.Itoa(slot))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("decisionlog: spool: %w", err)
		}
		lock, err := lockDir(dir)
		if errors.Is(err, errLocked) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("decisionlog: spool %s: %w", dir, err)
		}
		s := &spool{dir: dir, max: max, lock: lock, index: map[string]string{}}
		if err := s.load(); err != nil {
			unlockDir(lock)
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("decisionlog: spool: all %d slots under %s are in use", maxSlots, root)
}

// load indexes the segments found on disk and removes half-written ones.
func (s *spool) load() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(s.dir, name))
			continue
		}
		if !strings.HasSuffix(name, segmentExt) {
			continue
		}
		recs, size, err := s.read(name)
		if err != nil {
			return err
		}
		seg := &segment{name: name, size: size}
		for _, r := range recs {
			seg.ids = append(seg.ids, r.ID)
			s.index[r.ID] = name
		}
		s.segs = append(s.segs, seg)
		s.size += size
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].name < s.segs[j].name })
	return nil
}

// read decodes a segment; a line that does not decode (a damaged file) is skipped.
func (s *spool) read(name string) ([]Record, int64, error) {
	raw, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return nil, 0, fmt.Errorf("decisionlog: spool: %w", err)
	}
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, len(raw)+1)
	for sc.Scan() {
		var r spooled
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		out = append(out, Record{ID: r.ID, Decision: r.Decision, Version: r.Version, Outcome: r.Outcome,
			AsOf: r.AsOf, RecordedAt: r.RecordedAt, Envelope: r.Envelope, Input: r.Input, Facts: r.Facts})
	}
	return out, int64(len(raw)), sc.Err()
}

// append writes the records that fit in one new segment, in order, and returns how many it kept and
// how many could not be encoded (bad, reported by the errors in badErr); the rest did not fit. An
// error means none was kept.
func (s *spool) append(recs []Record) (kept, bad int, badErr, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf bytes.Buffer
	var ids []string
	var badErrs []error
	for _, r := range recs {
		line, err := json.Marshal(spooled{ID: r.ID, Decision: r.Decision, Version: r.Version, Outcome: r.Outcome,
			AsOf: r.AsOf, RecordedAt: r.RecordedAt, Envelope: r.Envelope, Input: r.Input, Facts: r.Facts})
		if err != nil {
			badErrs = append(badErrs, fmt.Errorf("decisionlog: spool %s: %w", r.ID, err))
			continue
		}
		if s.size+int64(buf.Len()+len(line)+1) > s.max {
			break
		}
		buf.Write(line)
		buf.WriteByte('\n')
		ids = append(ids, r.ID)
	}
	badErr = errors.Join(badErrs...)
	if len(ids) == 0 {
		return 0, len(badErrs), badErr, nil
	}
	s.seq++
	name := fmt.Sprintf("%020d-%08d%s", time.Now().UnixNano(), s.seq, segmentExt)
	if err := s.writeFile(name, buf.Bytes()); err != nil {
		return 0, len(badErrs), badErr, err
	}
	s.segs = append(s.segs, &segment{name: name, size: int64(buf.Len()), ids: ids})
	s.size += int64(buf.Len())
	for _, id := range ids {
		s.index[id] = name
	}
	return len(ids), len(badErrs), badErr, nil
}

// writeFile makes name durable before it becomes visible: a crash leaves the whole file or a .tmp.
func (s *spool) writeFile(name string, data []byte) error {
	tmp := filepath.Join(s.dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("decisionlog: spool: %w", err)
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// oldest returns the name and records of the oldest segment; "" when the spool is empty.
func (s *spool) oldest() (string, []Record, error) {
	s.mu.Lock()
	if len(s.segs) == 0 {
		s.mu.Unlock()
		return "", nil, nil
	}
	name := s.segs[0].name
	s.mu.Unlock()
	recs, _, err := s.read(name)
	return name, recs, err
}

// replace swaps segment name for one holding only recs (none: the segment is removed).
func (s *spool) replace(name string, recs []Record) error {
	s.mu.Lock()
	i := segmentIndex(s.segs, name)
	if i < 0 {
		s.mu.Unlock()
		return nil
	}
	seg := s.segs[i]
	if len(recs) == 0 {
		s.segs = append(s.segs[:i], s.segs[i+1:]...)
		s.size -= seg.size
		for _, id := range seg.ids {
			if s.index[id] == name {
				delete(s.index, id)
			}
		}
		s.mu.Unlock()
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("decisionlog: spool: %w", err)
		}
		return nil
	}
	var buf bytes.Buffer
	keep := make(map[string]bool, len(recs))
	for _, r := range recs {
		line, err := json.Marshal(spooled{ID: r.ID, Decision: r.Decision, Version: r.Version, Outcome: r.Outcome,
			AsOf: r.AsOf, RecordedAt: r.RecordedAt, Envelope: r.Envelope, Input: r.Input, Facts: r.Facts})
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("decisionlog: spool %s: %w", r.ID, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		keep[r.ID] = true
	}
	defer s.mu.Unlock()
	if err := s.writeFile(name, buf.Bytes()); err != nil {
		return err
	}
	for _, id := range seg.ids {
		if !keep[id] && s.index[id] == name {
			delete(s.index, id)
		}
	}
	s.size += int64(buf.Len()) - seg.size
	seg.size = int64(buf.Len())
	seg.ids = seg.ids[:0]
	for _, r := range recs {
		seg.ids = append(seg.ids, r.ID)
	}
	return nil
}

func segmentIndex(segs []*segment, name string) int {
	for i, s := range segs {
		if s.name == name {
			return i
		}
	}
	return -1
}

// get finds a spooled record by id.
func (s *spool) get(id string) (Record, bool, error) {
	s.mu.Lock()
	name, ok := s.index[id]
	s.mu.Unlock()
	if !ok {
		return Record{}, false, nil
	}
	recs, _, err := s.read(name)
	if errors.Is(err, os.ErrNotExist) { // drained meanwhile: the database has it now
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	for _, r := range recs {
		if r.ID == id {
			return r, true, nil
		}
	}
	return Record{}, false, nil
}

// bytes is the size of the spooled segments.
func (s *spool) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// close releases the slot; the segments stay for the next log to drain.
func (s *spool) close() { unlockDir(s.lock) }
