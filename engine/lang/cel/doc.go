// Package cel compiles CEL policies (policy.cel.yaml) for the engine and gives CEL policies exact decimal arithmetic, backed by shopspring/decimal.
//
// CEL's own numbers are int, uint and double; none of them can hold 0.1 exactly, so amounts are
// carried as decimal strings and turned into values of the type `decimal` with dec(...).
//
// # Making decimals
//
//	dec("129.99")          // from a decimal string: digits, optional sign and point
//	dec(5)                 // from an int
//	dec(facts.order.paid)  // fact decimals arrive as strings
//	dec_valid("12,50")     // false: test text before converting it
//
// A string must look like "-12.50": no exponent, no spaces, digits on both sides of a point.
// Anything else (dec("abc"), dec("1e3")) fails the evaluation with an error naming the text.
// A double is refused, even through dyn: it is not exact, so pass the amount as a string.
//
// # Arithmetic and comparison
//
//	dec("0.1") + dec("0.2") == dec("0.3")             // true
//	dec("129.99") * dec("0.1") == dec("12.999")       // true
//	dec(request.price) - dec("0.01")
//	-dec(request.refund)
//	dec(facts.account.paid) >= dec(rules.threshold)   // < <= > >= == != compare by value
//	dec("1.0") == dec("1.00")                         // true
//
// Both operands must be decimals: dec("1") + 1 is a type-check error, write dec("1") + dec(1).
//
// A quotient is rounded to 16 decimal places, half away from zero:
// dec("2") / dec("3") is 0.6666666666666667. Round the quotient to the places you need.
// Dividing by zero fails the evaluation ("decimal division by zero").
//
// # Rounding and formatting
//
//	x.round(2)         // half away from zero: 2.345 -> 2.35, -2.345 -> -2.35
//	x.round_bank(2)    // half to even:        2.345 -> 2.34,  2.355 -> 2.36
//	x.truncate(2)      // toward zero:         -2.349 -> -2.34
//	x.round(-2)        // negative places round to tens, hundreds...: 1250 -> 1300
//	x.ceil()  x.floor()  x.abs()
//	x.sign()           // -1, 0 or 1 (an int)
//	x.is_zero()
//	x.string()         // canonical text: "500.00" is "500", "-0.50" is "-0.5"
//	x.string_fixed(2)  // exactly two places, rounding half away from zero: "20.00"
//
// Places are ints from -64 to 64 (string_fixed: 0 to 64).
//
// # Lists and pairs
//
//	dec_sum(facts.orders.map(o, dec(o.amount)))   // 0 for an empty list
//	dec_sum(facts.orders.map(o, o.amount))        // elements may also be decimal strings or ints
//	dec_min(a, b)  dec_max(a, b)                  // the first argument when they are equal
//
// # Outputs
//
// A decimal output is returned as its canonical string; use .string_fixed(2) when an output must
// show cents ("20.00" rather than "20"):
//
//	outputs:
//	  - name: incentive
//	    expression: '(dec(facts.account.growth) * dec(rules.tiers[0].rate)).round(2).string_fixed(2)'
//
// # Limits
//
// A decimal may have at most 1000 significant digits and an exponent within ±1000; an operation
// whose result is larger fails the evaluation. This keeps a runaway expression from exhausting memory.
//
// # Go side
//
// Library installs everything above in a celgo.Env; Type declares decimal variables; Value and
// FromVal move decimals across the boundary; Native turns any CEL result into JSON-ready Go values.
package cel
