// Package perf builds the embedded default policy set over generated checkout facts of any size, for
// the scaling tests, the allocation budgets and the scaling plot of docs/performance.md.
package perf

import (
	"context"
	"fmt"
	"time"

	"arbiter"
	"arbiter/engine"
	"arbiter/store"
)

// AsOf is the decision time of every generated request: inside every generated coupon's window.
var AsOf = time.Date(2025, 2, 1, 12, 0, 0, 0, engine.Beijing)

// Payer owns the generated wallet and pays the generated payment; fixtures/market.yaml has it.
const Payer = "A1"

// PaymentID is the generated payment's id.
const PaymentID = "PAYGEN"

// Engine returns an engine over the embedded default policies and fixtures plus rows, with no
// decision log and, unless opts say otherwise, the default 2 s evaluation deadline.
func Engine(ctx context.Context, rows store.Rows, opts ...engine.Option) (*engine.Engine, error) {
	set, err := engine.Load(ctx, arbiter.Bundle())
	if err != nil {
		return nil, fmt.Errorf("perf: load policies: %w", err)
	}
	all, err := store.LoadRowsDir(set.Catalog(), arbiter.Fixtures())
	if err != nil {
		return nil, fmt.Errorf("perf: fixtures: %w", err)
	}
	all.Merge(rows)
	mem, err := store.NewMemory(set.Catalog(), all)
	if err != nil {
		return nil, fmt.Errorf("perf: memory store: %w", err)
	}
	return engine.New(set, mem, opts...), nil
}

// Line is the i-th generated payment line: mostly merchant GM0 (four lines in five), fifty
// products, a distinct sku each, a few on-demand, discounted, special-price or other-region lines,
// so that every line rule is exercised, in ten orders.
func Line(i int) map[string]any {
	mode := "monthly"
	switch i % 17 {
	case 3:
		mode = "on_demand"
	case 5:
		mode = "yearly"
	}
	region := "cn-north-4"
	if i%13 == 7 {
		region = "cn-east-3"
	}
	discounts := []any{}
	if i%19 == 11 {
		discounts = []any{"promotion"}
	}
	return map[string]any{
		"id":                    fmt.Sprintf("GL%05d", i),
		"order_id":              fmt.Sprintf("GO%02d", i%10),
		"product_id":            fmt.Sprintf("GP%02d", i%50),
		"sku_id":                fmt.Sprintf("GS%05d", i),
		"merchant_id":           merchant(i),
		"product_category":      "general",
		"special_price_package": i%23 == 9,
		"billing_mode":          mode,
		"period_months":         int64(1),
		"region":                region,
		"payable_amount":        fmt.Sprintf("%d.%02d", 10+i%90, i%100),
		"is_marketplace_line":   i%29 != 4,
		"applied_discounts":     discounts,
	}
}

func merchant(i int) string {
	if i%5 == 4 {
		return fmt.Sprintf("GM%d", 1+i/5%4)
	}
	return "GM0"
}

// Payment is the rows of payment PaymentID with n lines (Line(0) … Line(n-1)) in ten orders.
func Payment(n int) store.Rows {
	rows := store.Rows{
		"coupon_payments": {{"id": PaymentID, "payer_account_id": Payer, "status": "pending", "method": "online", "created_at": "2025-02-01T11:58:00+08:00"}},
	}
	for o := 0; o < 10; o++ {
		rows["coupon_payment_orders"] = append(rows["coupon_payment_orders"], map[string]any{
			"id": fmt.Sprintf("GO%02d", o), "payment_id": PaymentID, "account_id": Payer, "order_type": "new", "payer_type": "self",
		})
	}
	for i := 0; i < n; i++ {
		l := Line(i)
		l["payment_id"] = PaymentID
		rows["coupon_payment_lines"] = append(rows["coupon_payment_lines"], l)
	}
	return rows
}

// Coupon is the i-th generated coupon of Payer's wallet: issued by one of the five merchants for ten
// of the fifty products, with thresholds and face values that make some apply and some not.
func Coupon(i int) map[string]any {
	products := make([]any, 0, 10)
	for p := 0; p < 10; p++ {
		products = append(products, fmt.Sprintf("GP%02d", (i*7+p*5)%50))
	}
	modes := []any{"monthly"}
	if i%3 == 0 {
		modes = append(modes, "yearly")
	}
	status := "available"
	if i%11 == 10 {
		status = "used"
	}
	regions := []any{}
	if i%4 == 1 {
		regions = []any{"cn-north-4"}
	}
	return map[string]any{
		"id":                     fmt.Sprintf("GK%05d", i),
		"owner_account_id":       Payer,
		"issuer_merchant_id":     fmt.Sprintf("GM%d", i%5),
		"kind":                   "marketplace_activity",
		"acquisition":            "self_claimed",
		"status":                 status,
		"claimed_at":             "2025-01-05T10:00:00+08:00",
		"applicable_category":    "general",
		"applicable_product_ids": products,
		"billing_modes":          modes,
		"order_types":            []any{"new"},
		"regions":                regions,
		"threshold_amount":       fmt.Sprintf("%d.00", (i%8)*25),
		"face_value":             fmt.Sprintf("%d.00", 5+i%30),
		"valid_from":             "2025-01-01T00:00:00+08:00",
		"valid_to":               fmt.Sprintf("2025-03-%02dT23:59:59+08:00", 1+i%28),
	}
}

// Broad is the rows of coupon GKALL of Payer: issued by GM0 for all fifty products, monthly and
// yearly, no threshold, so that most of GM0's lines are eligible and share its deduction.
func Broad() store.Rows {
	c := Coupon(0)
	products := make([]any, 0, 50)
	for p := 0; p < 50; p++ {
		products = append(products, fmt.Sprintf("GP%02d", p))
	}
	c["id"], c["applicable_product_ids"], c["billing_modes"] = "GKALL", products, []any{"monthly", "yearly"}
	c["regions"], c["threshold_amount"], c["face_value"] = []any{}, "0.00", "500.00"
	return store.Rows{"coupons": {c}}
}

// Wallet is n generated coupons (Coupon(0) … Coupon(n-1)) in Payer's wallet.
func Wallet(n int) store.Rows {
	rows := store.Rows{}
	for i := 0; i < n; i++ {
		rows["coupons"] = append(rows["coupons"], Coupon(i))
	}
	return rows
}

// Cart is a coupon.quote cart of n lines (Line(0) … Line(n-1)) in orders of at most 100 lines.
// linesPerOrder is the most lines coupon.quote's schema takes in one cart order.
const linesPerOrder = 20

func Cart(n int) map[string]any {
	var orders []any
	for o := 0; o*linesPerOrder < n; o++ {
		var lines []any
		for i := o * linesPerOrder; i < n && i < (o+1)*linesPerOrder; i++ {
			l := Line(i)
			delete(l, "order_id")
			delete(l, "period_months")
			lines = append(lines, l)
		}
		orders = append(orders, map[string]any{"id": fmt.Sprintf("GO%02d", o), "order_type": "new", "lines": lines})
	}
	return map[string]any{"orders": orders}
}

// Applicability is the coupon.applicability request for coupon GKALL (Broad) on the generated payment.
func Applicability() engine.Request {
	return engine.Request{Decision: "coupon.applicability", AsOf: AsOf, Input: map[string]any{"coupon_id": "GKALL", "payment_id": PaymentID}}
}

// Quote is the coupon.quote request for coupon GKALL (Broad) on a generated cart of n lines.
func Quote(n int) engine.Request {
	return engine.Request{Decision: "coupon.quote", AsOf: AsOf, Input: map[string]any{"account_id": Payer, "coupon_id": "GKALL", "cart": Cart(n)}}
}

// Candidates is the coupon.candidates request of Payer on the generated payment; includeRejected
// asks for the reasons of every coupon that does not apply.
func Candidates(includeRejected bool) engine.Request {
	return engine.Request{Decision: "coupon.candidates", AsOf: AsOf, Input: map[string]any{"account_id": Payer, "payment_id": PaymentID, "include_rejected": includeRejected}}
}
