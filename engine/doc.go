// Package engine loads versioned policy sets and answers decisions over facts.
//
// A policy tree has policies/<domain>/<decision>/<version>/ folders (manifest.yaml, a Rego or CEL
// policy, tests.yaml), rules/<domain>/<table>/ rule tables (schema.yaml plus one file per effective
// window) and the fact catalog in facts/. Load validates and compiles all of it, reporting every
// problem at once; each language is compiled by its engine/lang adapter:
//
//	set, err := engine.Load(ctx, os.DirFS("."))
//	var le *engine.LoadError
//	if errors.As(err, &le) {
//		for _, p := range le.Problems {
//			fmt.Println(p) // policies/coupon/redeem/2025.1/manifest.yaml:12: ...
//		}
//	}
//
// An Engine serves one set (swapped atomically on reload) over a fact store:
//
//	e := engine.New(set, store, engine.WithTimeout(2*time.Second))
//	d, err := e.Decide(ctx, engine.Request{
//		Decision: "coupon.applicability",
//		AsOf:     time.Date(2025, 2, 1, 12, 0, 0, 0, engine.Beijing),
//		Input:    map[string]any{"coupon_id": "K1", "payment_id": "PAY1"},
//	})
//
// Decide picks the version effective at AsOf (windows are half-open: valid_from <= as_of < valid_to)
// or the pinned Version, validates the input against the version's JSON Schema, loads the facts its
// manifest names (keys are templates over the input), selects every rule table version effective at
// AsOf, evaluates, and returns the Decision envelope. Every failure is an *Error with a Code; errors.Is
// matches the sentinels (ErrUnknownDecision, ErrInvalidInput, ErrFactNotFound, ErrStoreUnavailable...).
//
// A version whose manifest has a commit section records consumption: Decide takes the commit's
// locks in the store, replays an earlier answer for a repeated idempotency key, decides over facts
// read inside the transaction, and appends the policy's ledger entries only when the outcome is allow.
//
// Policies never read the wall clock: Rego sees input.now (time.now_ns is forbidden by the sandbox); CEL
// sees now. Amounts are decimal strings handled with the engine's exact decimal functions.
//
// The catalog cases of tests.yaml are run by package casetest; package impact replays logged
// decisions against a candidate set.
package engine
