package decisionlog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"arbiter/store/decisionlog"
)

func TestPruneDeletesOnlyOldRecords(t *testing.T) {
	p := pool(t)
	log := decisionlog.NewPostgres(p, decisionlog.Options{Interval: 10 * time.Millisecond})
	for i := 0; i < 10; i++ {
		log.Enqueue(record(i, "demo.x")) // recorded one hour apart from base
	}
	if err := log.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cutoff  time.Time
		deleted int64
		kept    []string
		gone    []string
	}{
		{"nothing older", base, 0, []string{"d0000"}, nil},
		{"the first three", base.Add(3 * time.Hour), 3, []string{"d0003", "d0009"}, []string{"d0000", "d0002"}},
		{"again: nothing more", base.Add(3 * time.Hour), 0, []string{"d0003"}, nil},
		{"all", base.Add(24 * time.Hour), 7, nil, []string{"d0003", "d0009"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := decisionlog.Prune(context.Background(), p, tt.cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.deleted {
				t.Fatalf("deleted %d, want %d", n, tt.deleted)
			}
			for _, id := range tt.kept {
				if _, err := log.Get(context.Background(), id); err != nil {
					t.Errorf("%s: %v, want kept", id, err)
				}
			}
			for _, id := range tt.gone {
				if _, err := log.Get(context.Background(), id); !errors.Is(err, decisionlog.ErrNotFound) {
					t.Errorf("%s: %v, want deleted", id, err)
				}
			}
		})
	}
}
