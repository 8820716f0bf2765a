package server_test

import (
	"testing"
	"time"

	"arbiter/internal/server"
)

func TestParseRetention(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  bool
	}{
		{"unset keeps everything", "", 0, false},
		{"days", "90d", 90 * 24 * time.Hour, false},
		{"a Go duration", "36h", 36 * time.Hour, false},
		{"zero days", "0d", 0, true},
		{"negative", "-1h", 0, true},
		{"words", "forever", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := server.ParseRetention(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseRetention(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}
