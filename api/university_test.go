package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"arbiter/engine"
	"arbiter/internal/testing/testserver"
	"arbiter/store"
)

// University vouchers beyond the catalog cases: exact amounts, calendar months and working days over
// HTTP with facts in PostgreSQL, validity decided on the Beijing calendar whatever offset as_of carries,
// a balance changed in the database seen by the next decision, bad input as problems naming the field,
// the sample requests, and the benchmarks of the CEL decisions.

// universityAt is the instant the quote tests decide at (Saturday 2025-03-01 in Beijing).
const universityAt = "2025-03-01T09:00:00+08:00"

// universityRows returns the university rows of the embedded fixtures: the vouchers and the UNI-
// accounts of the shared market_accounts table.
func universityRows(t testing.TB) store.Rows {
	t.Helper()
	all := testserver.Fixtures(t)
	rows := store.Rows{"university_vouchers": all["university_vouchers"]}
	for _, r := range all["market_accounts"] {
		if id, _ := r["id"].(string); strings.HasPrefix(id, "UNI-") {
			rows["market_accounts"] = append(rows["market_accounts"], r)
		}
	}
	if len(rows["university_vouchers"]) == 0 || len(rows["market_accounts"]) == 0 {
		t.Fatal("fixtures/university.yaml has no vouchers or no UNI- accounts")
	}
	return rows
}

// quoteInput is a verified teacher asking for a deep-learning class of 40.
func quoteInput(extra ...any) map[string]any {
	in := map[string]any{"course_name": "深度学习", "students": 40, "site": "mainland", "recipient_account_id": "UNI-T1"}
	for i := 0; i+1 < len(extra); i += 2 {
		in[extra[i].(string)] = extra[i+1]
	}
	return in
}

func TestUniversityQuoteOverHTTPWithPostgres(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: universityRows(t)})
	d := decodeDecision(t, srv.Decide(t, "university.voucher_quote",
		quoteInput("needs_resources_from", "2025-03-17", "expert_notified_on", "2025-03-03"), universityAt))
	if d.Outcome != "allow" || len(d.Reasons) != 0 {
		t.Fatalf("outcome %s reasons %v, want allow without reasons", d.Outcome, d.Reasons)
	}
	for _, tt := range []struct{ output, want string }{
		{"category", `"ai"`},
		{"amount_per_student", `"500.00"`},
		{"indicative_total", `"20000.00"`},
		{"method", `"standard"`},
		{"valid_from", `"2025-03-10"`}, // UNIV-03/05: three months from the arrival, not from the quote
		{"valid_to", `"2025-06-10"`},
		{"questionnaire_due", `"2025-03-10"`},
		{"arrival_by", `"2025-03-10"`},
		{"arrival_working_days_after_notice", `5`},
	} {
		if got := d.text(tt.output); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.output, got, tt.want)
		}
	}
	if d.Decision != "university.voucher_quote" || d.Policy.Version != "2026.1" || d.Policy.Digest == "" {
		t.Errorf("envelope names %s %+v", d.Decision, d.Policy)
	}
	if v := d.tableVersion("university.vouchers"); v != "2020" {
		t.Errorf("vouchers table version %q, want 2020", v)
	}
	if v := d.tableVersion("calendar.prc_workdays"); v != "2025" {
		t.Errorf("calendar version %q, want 2025 (the arrangement known on 2025-03-01)", v)
	}
}

// TestUniversityQuoteAmountsAreExact multiplies per-student amounts by class sizes whose products a
// binary float would not print as such.
func TestUniversityQuoteAmountsAreExact(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: universityRows(t)})
	for _, tt := range []struct {
		name, course string
		students     int
		total        string
	}{
		{"one AI student", "深度学习", 1, `"500.00"`},
		{"three general-computing students", "数据库", 3, `"900.00"`},
		{"largest class", "computer vision", 100000, `"50000000.00"`},
		{"odd class", "操作系统", 99999, `"29999700.00"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := decodeDecision(t, srv.Decide(t, "university.voucher_quote",
				quoteInput("course_name", tt.course, "students", tt.students), universityAt))
			if d.Outcome != "allow" || d.text("indicative_total") != tt.total {
				t.Fatalf("%s total %s, want allow %s", d.Outcome, d.text("indicative_total"), tt.total)
			}
		})
	}
}

// TestUniversityValidityIsABeijingDate sends the instants on both sides of the last valid day with a
// UTC offset: a voucher issued on 1 March in Beijing (still 28 February in UTC) is valid through
// 1 June in Beijing, so 15:59:59Z on 1 June is inside and 16:00:00Z is outside.
func TestUniversityValidityIsABeijingDate(t *testing.T) {
	rows := store.Rows{
		"market_accounts": {{"id": "UNI-S9", "personal_real_name_verified": true}},
		"university_vouchers": {{"id": "UNI-V9", "student_account_id": "UNI-S9", "course_name": "数据库",
			"course_category": "general_computing", "amount": "300.00", "balance": "120.50", "issued_at": "2025-02-28T16:30:00Z"}},
	}
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	input := map[string]any{"voucher_id": "UNI-V9", "account_id": "UNI-S9"}
	for _, tt := range []struct {
		asOf, outcome, expired string
	}{
		{"2025-06-01T15:59:59Z", "allow", "false"},
		{"2025-06-01T16:00:00Z", "deny", "true"},
	} {
		t.Run(tt.asOf, func(t *testing.T) {
			d := decodeDecision(t, srv.Decide(t, "university.voucher_check", input, tt.asOf))
			if d.Outcome != tt.outcome || d.text("expired") != tt.expired || d.text("valid_to") != `"2025-06-01"` {
				t.Fatalf("%s expired %s valid_to %s, want %s expired %s valid_to 2025-06-01",
					d.Outcome, d.text("expired"), d.text("valid_to"), tt.outcome, tt.expired)
			}
			if d.text("balance") != `"120.50"` {
				t.Errorf("balance %s, want \"120.50\"", d.text("balance"))
			}
		})
	}
}

// TestUniversityBalanceIsReadFromPostgres changes a voucher's NUMERIC balance in the database between
// two decisions: one cent left is usable, none is exhausted, without any reload.
func TestUniversityBalanceIsReadFromPostgres(t *testing.T) {
	rows := universityRows(t)
	srv := testserver.Start(t, testserver.Options{Rows: rows})
	ctx := context.Background()
	input := map[string]any{"voucher_id": "UNI-V1", "account_id": "UNI-S1"}
	const asOf = "2025-04-01T10:00:00+08:00"
	for _, tt := range []struct {
		balance, outcome, shown string
		reasons                 []string
	}{
		{"0.01", "allow", `"0.01"`, nil},
		{"0.00", "deny", `"0.00"`, []string{"BALANCE_EXHAUSTED", "STOP_AND_DELETE_RESOURCES"}},
		{"499.99", "allow", `"499.99"`, nil},
	} {
		if _, err := srv.Postgres.Pool().Exec(ctx, `UPDATE university_vouchers SET balance = $1::numeric WHERE id = 'UNI-V1'`, tt.balance); err != nil {
			t.Fatal(err)
		}
		d := decodeDecision(t, srv.Decide(t, "university.voucher_check", input, asOf))
		var codes []string
		for _, r := range d.Reasons {
			codes = append(codes, r.Code)
		}
		if d.Outcome != tt.outcome || d.text("balance") != tt.shown || !slices.Equal(codes, tt.reasons) {
			t.Errorf("balance %s: %s %v shown %s, want %s %v shown %s", tt.balance, d.Outcome, codes, d.text("balance"), tt.outcome, tt.reasons, tt.shown)
		}
	}
}

// TestUniversityUnverifiedRecipientIsToldHow checks the refusal of an unverified international student
// says how such a student verifies, and that the teacher's verified account is accepted instead.
func TestUniversityUnverifiedRecipientIsToldHow(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: universityRows(t)})
	r := srv.Decide(t, "university.voucher_quote", quoteInput("recipient_account_id", "UNI-S2", "recipient_can_register_china_site", false), universityAt)
	var d struct {
		Outcome string `json:"outcome"`
		Reasons []struct {
			Code, Rule, Message, Effect string
		} `json:"reasons"`
	}
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Raw)
	}
	if err := json.Unmarshal(r.Raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.Outcome != "deny" || len(d.Reasons) != 2 || d.Reasons[0].Code != "REAL_NAME_VERIFICATION_REQUIRED" || d.Reasons[1].Code != "TOP_UP_TEACHER_ACCOUNT" {
		t.Fatalf("%s %+v, want deny REAL_NAME_VERIFICATION_REQUIRED then the TOP_UP_TEACHER_ACCOUNT note", d.Outcome, d.Reasons)
	}
	if first := d.Reasons[0]; first.Rule != "UNIV-06" || !strings.Contains(first.Message, "passport or bank card") {
		t.Errorf("reason %+v, want UNIV-06 telling an international student to verify with a passport or bank card", first)
	}
	if note := d.Reasons[1]; note.Effect != "note" || !strings.Contains(note.Message, "IAM sub-user") {
		t.Errorf("note %+v, want a note about the teacher's account and IAM sub-users", note)
	}
	teacher := decodeDecision(t, srv.Decide(t, "university.voucher_quote", quoteInput(), universityAt))
	if teacher.Outcome != "allow" {
		t.Errorf("the teacher's account: %s %v, want allow", teacher.Outcome, teacher.Reasons)
	}
}

func TestUniversityBadInputIsAProblemNamingTheField(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: universityRows(t)})
	tests := []struct {
		name, decision string
		input          any
		code, field    string
	}{
		{"students as a string", "university.voucher_quote", quoteInput("students", "40"), "invalid_input", "input.students"},
		{"no students", "university.voucher_quote", quoteInput("students", 0), "invalid_input", "input.students"},
		{"half a student", "university.voucher_quote", quoteInput("students", 1.5), "invalid_input", "input.students"},
		{"unknown site", "university.voucher_quote", quoteInput("site", "mars"), "invalid_input", "input.site"},
		{"impossible need date", "university.voucher_quote", quoteInput("needs_resources_from", "2025-02-30"), "invalid_input", "input.needs_resources_from"},
		{"need date in another format", "university.voucher_quote", quoteInput("expert_notified_on", "03/03/2025"), "invalid_input", "input.expert_notified_on"},
		{"a caller cannot set the amount", "university.voucher_quote", quoteInput("amount_per_student", "1000.00"), "invalid_input", "input.amount_per_student"},
		{"zero months", "university.voucher_quote", quoteInput("months_needed", 0), "invalid_input", "input.months_needed"},
		{"no course", "university.voucher_quote", map[string]any{"students": 40, "site": "mainland", "recipient_account_id": "UNI-T1"}, "invalid_input", "input.course_name"},
		{"unknown recipient", "university.voucher_quote", quoteInput("recipient_account_id", "UNI-NOBODY"), "fact_not_found", "input.recipient_account_id"},
		{"unknown voucher", "university.voucher_check", map[string]any{"voucher_id": "UNI-NONE", "account_id": "UNI-S1"}, "fact_not_found", "input.voucher_id"},
		{"check without an account", "university.voucher_check", map[string]any{"voucher_id": "UNI-V1"}, "invalid_input", "input.account_id"},
		{"re-top-up with a word for a flag", "university.voucher_retopup", map[string]any{"voucher_id": "UNI-V1", "course_ended": "no"}, "invalid_input", "input.course_ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectProblem(t, srv.Client, srv.URL, tt.decision, tt.input, universityAt, tt.code, tt.field)
		})
	}
}

// TestUniversitySampleRequests posts every fixtures/requests/university.*.json to a server holding the
// fixtures, as the curl examples do.
func TestUniversitySampleRequests(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Rows: universityRows(t)})
	want := map[string]struct {
		outcome, output, value string
	}{
		"university.voucher_quote":   {"allow", "indicative_total", `"20000.00"`},
		"university.voucher_check":   {"allow", "balance", `"185.40"`},
		"university.voucher_retopup": {"allow", "exhausted", `true`},
	}
	files, err := filepath.Glob("../fixtures/requests/university.*.json")
	if err != nil || len(files) != len(want) {
		t.Fatalf("sample requests %v (%v), want one per decision: %d", files, err, len(want))
	}
	for _, f := range files {
		decision := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(decision, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[decision]
			if !ok {
				t.Fatalf("no expectation for %s", decision)
			}
			d := decodeDecision(t, testserver.PostRaw(t, srv.Client, srv.URL, "/v1/decisions/"+decision, raw))
			if d.Outcome != w.outcome || d.text(w.output) != w.value {
				t.Errorf("%s: %s %s=%s, want %s %s", decision, d.Outcome, w.output, d.text(w.output), w.outcome, w.value)
			}
		})
	}
}

// BenchmarkUniversityVoucher decides the sample quote (with both working-day counts), a quote without
// dates and a voucher check, in process (facts in memory and in PostgreSQL) and over HTTP against
// PostgreSQL:
// go test -run '^$' -bench BenchmarkUniversityVoucher -benchmem ./api
func BenchmarkUniversityVoucher(b *testing.B) {
	rows := universityRows(b)
	srv := testserver.Start(b, testserver.Options{Rows: rows})
	mem, err := store.NewMemory(srv.Service.Engine.PolicySet().Catalog(), rows)
	if err != nil {
		b.Fatal(err)
	}
	requests := []struct {
		name, decision, asOf string
		input                map[string]any
		output, want         string
	}{
		{"quote", "university.voucher_quote", universityAt, map[string]any{"course_name": "深度学习", "students": json.Number("40"), "site": "mainland",
			"recipient_account_id": "UNI-T1", "needs_resources_from": "2025-03-17", "expert_notified_on": "2025-03-03"}, "questionnaire_due", "2025-03-10"},
		{"quote-no-dates", "university.voucher_quote", universityAt, map[string]any{"course_name": "深度学习", "students": json.Number("40"), "site": "mainland",
			"recipient_account_id": "UNI-T1"}, "indicative_total", "20000.00"},
		{"check", "university.voucher_check", "2025-04-01T10:00:00+08:00", map[string]any{"voucher_id": "UNI-V2", "account_id": "UNI-S1"}, "balance", "185.40"},
	}
	for _, rq := range requests {
		asOf, err := time.Parse(time.RFC3339, rq.asOf)
		if err != nil {
			b.Fatal(err)
		}
		req := engine.Request{Decision: rq.decision, Input: rq.input, AsOf: asOf}
		for _, s := range []struct {
			name string
			e    *engine.Engine
		}{
			{"memory", engine.New(srv.Service.Engine.PolicySet(), mem)},
			{"postgres", srv.Service.Engine},
		} {
			b.Run(rq.name+"/"+s.name, func(b *testing.B) {
				d, err := s.e.Decide(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				if got := fmt.Sprint(d.Outputs[rq.output]); got != rq.want {
					b.Fatalf("%s = %s, want %s", rq.output, got, rq.want)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := s.e.Decide(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(rq.name+"/http", func(b *testing.B) {
			body, err := json.Marshal(map[string]any{"input": rq.input, "as_of": rq.asOf})
			if err != nil {
				b.Fatal(err)
			}
			benchHTTP(b, srv.Client, srv.URL+"/v1/decisions/"+rq.decision, body)
		})
	}
}

// benchHTTP posts body to url b.N times one after another and reports the p50 and p99 latencies.
func benchHTTP(b *testing.B, client *http.Client, url string, body []byte) {
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("HTTP %d", resp.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
	}
}
