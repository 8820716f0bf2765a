package engine

import (
	"testing"
	"time"

	"arbiter/engine/internal/calendar"
)

func TestTemplates(t *testing.T) {
	input := map[string]any{"coupon_id": "K1", "n": int64(7), "nested": map[string]any{"id": "X"}}
	asOf := time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC) // 2026-01-01 00:00 in Beijing
	tests := []struct {
		name      string
		tmpl      string
		want      any
		wantField string
		wantErr   string
	}{
		{name: "single placeholder keeps the type", tmpl: "{input.n}", want: int64(7), wantField: "input.n"},
		{name: "composite", tmpl: "coupon:{input.coupon_id}", want: "coupon:K1"},
		{name: "nested path", tmpl: "x:{input.nested.id}", want: "x:X"},
		{name: "Beijing year of as_of", tmpl: "quota:{input.coupon_id}:{as_of:2006}", want: "quota:K1:2026"},
		{name: "missing field", tmpl: "c:{input.nope}", wantErr: "input.nope"},
		{name: "object is not a key", tmpl: "{input.nested}", wantErr: "input.nested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := parseTemplate(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, fe := tp.expand(input, asOf)
			if tt.wantErr != "" {
				if fe == nil || fe.Field != tt.wantErr {
					t.Fatalf("want a field error on %s, got %v %v", tt.wantErr, got, fe)
				}
				return
			}
			if fe != nil || got != tt.want {
				t.Fatalf("got %v (%v), want %v", got, fe, tt.want)
			}
			if tp.field() != tt.wantField {
				t.Fatalf("field %q, want %q", tp.field(), tt.wantField)
			}
		})
	}
	for _, bad := range []string{"{facts.x}", "a{input.}b", "{input.x"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("template %q should be refused", bad)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"coupon:{input.coupon_id}", "{as_of:2006}", "{input.a.b}", "{", "}{", "{input.}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := parseTemplate(s)
		if err != nil {
			return
		}
		_, _ = tp.expand(map[string]any{"a": "x"}, time.Unix(0, 0))
	})
}

func TestAddMonthsClampsToMonthEnd(t *testing.T) {
	for _, tt := range []struct {
		from, want string
		months     int
	}{
		{"2025-03-01T00:00:00+08:00", "2025-06-01T00:00:00+08:00", 3},
		{"2024-11-30T10:00:00+08:00", "2025-02-28T10:00:00+08:00", 3},
		{"2024-01-31T00:00:00+08:00", "2024-02-29T00:00:00+08:00", 1},
		{"2025-12-31T23:59:59+08:00", "2026-01-31T23:59:59+08:00", 1},
	} {
		from, _ := time.Parse(time.RFC3339, tt.from)
		want, _ := time.Parse(time.RFC3339, tt.want)
		if got := calendar.AddMonths(from, tt.months); !got.Equal(want) {
			t.Errorf("calendar.AddMonths(%s, %d) = %s, want %s", tt.from, tt.months, got, tt.want)
		}
	}
}
