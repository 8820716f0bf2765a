package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"arbiter/internal/testing/pgbouncer"
	"arbiter/internal/testing/testserver"
)

// TestTwoReplicasThroughPgBouncerTransactionMode serves two arbiter processes with the default
// configuration through a real PgBouncer in transaction mode, with fewer server connections than the
// replicas hold, so consecutive transactions of one client land on different server connections:
// every answer is a decision (no 503 from a lost prepared statement) and the commit concurrency
// guarantees hold.
func TestTwoReplicasThroughPgBouncerTransactionMode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PgBouncer and two arbiter processes")
	}
	rows := couponRows([]string{"K1"}, numbered("PAY", 50))
	for _, k := range numbered("KB", 50) {
		rows["coupons"] = append(rows["coupons"], couponRow(k, "A2", nil))
	}
	addCouponPayment(rows, "PAYB", "A2", couponLineRow("L-PAYB", "PAYB", "O-PAYB", "P1", "M1", "150.00", nil))
	db := testserver.Start(t, testserver.Options{Rows: canonical(t, rows)}) // creates, migrates and seeds directly
	via := pgbouncer.Start(t, db.DatabaseURL, pgbouncer.Options{PoolSize: 3})
	replicas := []*testserver.Process{testserver.StartProcess(t, via), testserver.StartProcess(t, via)}
	client := &http.Client{Timeout: 30 * time.Second}

	t.Run("reads", func(t *testing.T) {
		vs := race(100, func(i int) reply {
			return decide(client, replicas[i%2].URL, "coupon.candidates",
				map[string]any{"account_id": "A1", "payment_id": fmt.Sprintf("PAY%02d", i%50)}, checkoutAt)
		})
		for i, v := range vs {
			if v.status != http.StatusOK {
				t.Errorf("read %d: HTTP %d %s", i, v.status, v.raw)
			}
		}
	})
	t.Run("one coupon on 50 payments", func(t *testing.T) {
		rs := race(50, func(i int) reply { return redeem(client, replicas[i%2].URL, "K1", fmt.Sprintf("PAY%02d", i)) })
		if w := allowed(t, rs, "COUPON_USED"); len(w) != 1 {
			t.Fatalf("%d redemptions succeeded, want exactly 1: %+v", len(w), w)
		}
	})
	t.Run("50 coupons on one payment", func(t *testing.T) {
		rs := race(50, func(i int) reply { return redeem(client, replicas[i%2].URL, fmt.Sprintf("KB%02d", i), "PAYB") })
		if w := allowed(t, rs, "MULTIPLE_COUPONS_IN_PAYMENT"); len(w) != 1 {
			t.Fatalf("%d redemptions succeeded, want exactly 1: %+v", len(w), w)
		}
	})
	ledger := ledgerLines(readLedger(t, db.DatabaseURL))
	if len(ledger) != 4 {
		t.Fatalf("ledger %v, want one coupon and one payment entry per race", ledger)
	}
	for _, p := range replicas {
		if r := testserver.Get(t, client, p.URL, "/readyz"); r.Status != http.StatusOK {
			t.Errorf("replica %s not ready after the load: %d %s", p.URL, r.Status, r.Raw)
		}
	}
}
