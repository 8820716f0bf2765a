// Package value is the one value model a request, a fact, a rule table and a test case take on their
// way to a policy, whatever language it is written in: objects are map[string]any, arrays []any,
// text string, booleans bool, null nil, whole numbers int64 and other numbers float64.
//
// Amounts are never numbers here: schemas make them decimal strings, and both languages do exact
// decimal arithmetic on those strings.
package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxNumberLength bounds the text of one number; longer numbers are refused, not approximated.
const MaxNumberLength = 64

// MaxDepth bounds how deeply objects and arrays may nest.
const MaxDepth = 64

// Error names the place in a document that cannot become a value.
type Error struct {
	Path    string // JSON path such as input.lines[3].amount; empty for the document itself
	Message string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Decode reads exactly one JSON value from data into the canonical model; root names its path in errors.
func Decode(data []byte, root string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &Error{Path: root, Message: "holds more than one JSON value"}
	}
	return Canonical(v, root)
}

// Canonical converts decoded JSON or YAML values in place (json.Number becomes int64 or float64) and
// checks the budgets: nesting depth, number length and range, and text PostgreSQL can store.
//
// Only values whose representation changes are written back, so a document already in the value
// model is left untouched and can be read concurrently (a decision log encodes the request input
// while the caller may decide it again).
func Canonical(v any, root string) (any, error) {
	n, _, err := canonical(v, 0)
	if err != nil {
		return nil, err.resolve(root)
	}
	return n, nil
}

// pathError is an Error whose path is assembled on the way up, only when there is an error.
type pathError struct {
	steps   []string // innermost first: ".key" or "[i]"
	message string
}

func (e *pathError) at(step string) *pathError {
	e.steps = append(e.steps, step)
	return e
}

func (e *pathError) resolve(root string) *Error {
	var b strings.Builder
	b.WriteString(root)
	for i := len(e.steps) - 1; i >= 0; i-- {
		s := e.steps[i]
		if b.Len() == 0 && strings.HasPrefix(s, ".") {
			s = s[1:]
		}
		b.WriteString(s)
	}
	return &Error{Path: b.String(), Message: e.message}
}

// canonical returns v in the value model and whether it differs from v.
func canonical(v any, depth int) (any, bool, *pathError) {
	if depth > MaxDepth {
		return nil, false, &pathError{message: fmt.Sprintf("nests deeper than %d levels", MaxDepth)}
	}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if err := checkText(k); err != nil {
				return nil, false, &pathError{message: "a key " + err.Error()}
			}
			n, changed, err := canonical(c, depth+1)
			if err != nil {
				return nil, false, err.at("." + k)
			}
			if changed {
				t[k] = n
			}
		}
		return t, false, nil
	case []any:
		for i, c := range t {
			n, changed, err := canonical(c, depth+1)
			if err != nil {
				return nil, false, err.at(fmt.Sprintf("[%d]", i))
			}
			if changed {
				t[i] = n
			}
		}
		return t, false, nil
	case json.Number:
		n, err := Number(string(t), "")
		if err != nil {
			return nil, false, &pathError{message: err.(*Error).Message}
		}
		return n, true, nil
	case string:
		if err := checkText(t); err != nil {
			return nil, false, &pathError{message: err.Error()}
		}
		return t, false, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, false, &pathError{message: "is not a finite number"}
		}
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t), true, nil
		}
		return t, false, nil
	case int:
		return int64(t), true, nil
	}
	return v, false, nil
}

// Number reads the text of a number: int64 when whole and in range, else a finite float64.
func Number(text, path string) (any, error) {
	if len(text) > MaxNumberLength {
		return nil, &Error{Path: path, Message: fmt.Sprintf("number has more than %d characters; send amounts as decimal strings", MaxNumberLength)}
	}
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, &Error{Path: path, Message: "number is out of range"}
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), nil
	}
	return f, nil
}

// checkText refuses text no store can keep: NUL characters and invalid UTF-8.
func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("contains a NUL character")
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	return nil
}
