package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"arbiter/engine"
	"arbiter/engine/value"
)

// maxVersionLength bounds the version a request may pin; versions are short names such as 2024.1.
const maxVersionLength = 64

// locateBadText walks body token by token and names the first place encoding/json would silently
// repair or refuse without a field: text that is not valid UTF-8 (decoded as U+FFFD) and nesting
// deeper than the value model allows (the decoder stops at 10,000 levels with a syntax error). ok is
// false when there is no such place or the body is not JSON at all. The walk keeps no values, so it
// costs memory in proportion to the nesting only.
func locateBadText(body []byte) (field, message string, ok bool) {
	type frame struct {
		object    bool
		key       string
		index     int
		expectKey bool
	}
	var stack []frame
	// path names the current slot; for a key, the object holding it.
	path := func(ofKey bool) string {
		var b strings.Builder
		for i, f := range stack {
			if ofKey && i == len(stack)-1 {
				break
			}
			if !f.object {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	next := func() { // the value in the current slot is complete
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].expectKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		if len(stack) == 0 && tok != json.Delim('{') {
			return "", "", false // not a request object: there is no field to name
		}
		off := dec.InputOffset()
		raw := body[prev:off] // the token and the separators before it, which are ASCII
		prev = off
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				// The body's own object is level 0 and input's value level 1: value.MaxDepth counts from input.
				if len(stack) > value.MaxDepth+1 {
					return path(false), fmt.Sprintf("nests deeper than %d levels", value.MaxDepth), true
				}
				stack = append(stack, frame{object: t == '{', expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				next()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				if !utf8.Valid(raw) {
					return path(true), "has a key that is not valid UTF-8", true
				}
				stack[n-1].key, stack[n-1].expectKey = t, false
				continue
			}
			if !utf8.Valid(raw) {
				return path(false), "is not valid UTF-8", true
			}
			next()
		default:
			next()
		}
		if len(stack) == 0 {
			return "", "", false
		}
	}
}

// textProblem is the 422 for a field whose text or nesting no decision can take.
func textProblem(field, message string) *Problem {
	p := problem(http.StatusUnprocessableEntity, string(engine.CodeInvalidInput), field+" "+message,
		engine.FieldError{Field: field, Message: message})
	return &p
}
