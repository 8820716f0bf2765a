// Package rego compiles Rego policies for the engine (OPA v1, prepared once) and gives Rego policies exact decimal arithmetic through dec.* built-in functions,
// backed by shopspring/decimal.
//
// Rego numbers are not safe for money once arithmetic starts, so amounts travel as decimal strings
// and every calculation goes through dec.*.
//
// # Arguments and results
//
// Every amount argument is a decimal string ("-12.50": optional sign, digits, optional point and
// digits; no exponent, no spaces) or a number. A number is read by its literal text, so 0.1 in a
// policy or in the request stays exactly 0.1; numbers may carry an exponent (1.5e3).
//
// Results are canonical decimal strings: no exponent and no trailing fractional zeros, so
// dec.add("500.00", "0") is "500". Compare results with dec.eq / dec.lt..., never as text; use
// dec.fixed when an output must show a fixed number of places.
//
// # Functions
//
//	dec.add(a, b)  dec.sub(a, b)  dec.mul(a, b)   exact
//	dec.div(a, b)                                 16 places, rounded half away from zero
//	dec.neg(a)  dec.abs(a)
//	dec.min(a, b)  dec.max(a, b)                  a when they are equal
//	dec.sum(values)                               an array (or set) of amounts; "0" when empty
//	dec.max_of(values)                            the largest of a non-empty array (or set) of amounts
//	dec.cmp(a, b)                                 -1, 0 or 1 (a number)
//	dec.lt  dec.lte  dec.gt  dec.gte  dec.eq      booleans; dec.eq("1.0", "1.00") is true
//	dec.round(a, places)                          half away from zero: "2.345" -> "2.35", "-2.345" -> "-2.35"
//	dec.round_bank(a, places)                     half to even: "2.345" -> "2.34", "2.355" -> "2.36"
//	dec.truncate(a, places)                       toward zero: "-2.349" -> "-2.34"
//	dec.fixed(a, places)                          text with exactly places decimals, rounded half away from zero: dec.fixed("20", 2) is "20.00"
//	dec.valid(a)                                  whether a is an acceptable amount; never an error
//
// places is a whole number from -64 to 64 (dec.fixed: 0 to 64); negative places round to tens,
// hundreds...: dec.round("1250", -2) is "1300".
//
// A set drops duplicates ({"1", "1"} is one element), so sum amounts from an array comprehension:
//
//	total := dec.sum([o.amount | some o in input.facts.orders])
//
// # Collections
//
// The coll.* functions do in one native pass what a comprehension would do element by element, so
// that a policy stays linear in its input (they hold no business rule):
//
//	coll.group_by(xs, field)          {value: [objects of xs with that field value, in order]}
//	coll.index_by(xs, field)          {value: the object of xs with that field value}; two different
//	                                  objects with one value are an error
//	coll.where_in(xs, field, values)      the objects of xs whose field is one of values
//	coll.where_not_in(xs, field, values)  the objects of xs whose field is missing or none of values
//
// xs is an array or set of objects; values an array, a set or null (none). Objects without the
// field are left out of group_by and index_by.
//
// # Examples
//
//	dec.add("0.1", "0.2") == "0.3"
//	dec.mul("129.99", "0.1") == "12.999"
//	dec.mul(129.99, 0.1) == "12.999"
//	dec.round(dec.mul("565086.49", "0.04"), 2) == "22603.46"
//
//	reasons contains {"code": "OVER_LIMIT", "rule": "CPN-03"} if {
//		dec.gt(input.request.amount, input.rules.limits.max_amount)
//	}
//
//	outputs := {"refund": dec.fixed(dec.mul(input.facts.order.paid, input.rules.refund.rate), 2)}
//
// # Errors
//
// An argument that is not an acceptable amount (dec.add("abc", "1"), a boolean, null), a division
// by zero, a bad places value or a result beyond 1000 significant digits (or an exponent beyond
// ±1000) stops the whole evaluation with an error naming the function and the operand, e.g.
// `dec.add: operand 1: "abc" is not a decimal number`. It never makes a rule silently undefined,
// whatever the evaluator's strict-errors setting. Check doubtful text with dec.valid first.
//
// Calls are type-checked when the policy is compiled: dec.add(true, "1") is rejected at load time.
//
// # Go side
//
// Options returns the rego options that register the functions; pass them to oparego.New.
package rego
