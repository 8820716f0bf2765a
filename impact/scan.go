package impact

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"arbiter/engine/value"
)

// This file reads logged JSON without encoding/json's reflection and intermediate values: a decoder
// straight into the value model, a scanner that picks out of an envelope only what a replay compares,
// and a comparison of logged output JSON with replayed outputs that decodes nothing.
//
// Each of them answers ok=false on anything unusual (escapes it does not handle, deep nesting, a type
// it does not expect); the caller then takes the encoding/json path, which stays the reference for
// both results and error messages. The fuzz tests hold them to that reference.

// fastDepth bounds nesting on the fast path, below value.MaxDepth so the reference decides every limit.
const fastDepth = 48

type scanner struct {
	b []byte
	i int
	// keys interns object keys (and short texts): a replay reads the same few names over and over.
	keys map[string]string
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// done reports whether only whitespace is left.
func (s *scanner) done() bool {
	s.ws()
	return s.i == len(s.b)
}

// rawString reads a string at s.i and returns its bytes between the quotes and whether it holds
// escapes; ok is false for a malformed string.
func (s *scanner) rawString() (raw []byte, escaped, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], escaped, true
		case c == '\\':
			escaped = true
			j++
			if j >= len(s.b) {
				return nil, false, false
			}
			switch s.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.b) {
					return nil, false, false
				}
				for _, h := range s.b[j+1 : j+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				j += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// text reads a string into the value model's text: valid UTF-8 without NUL, as value.Decode accepts.
func (s *scanner) text(intern bool) (string, bool) {
	raw, escaped, ok := s.rawString()
	if !ok {
		return "", false
	}
	if escaped {
		var buf []byte
		if buf, ok = unescape(raw); !ok {
			return "", false
		}
		raw = buf
	}
	if !utf8.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
		return "", false
	}
	if intern && s.keys != nil && len(raw) <= 40 {
		if k, ok := s.keys[string(raw)]; ok {
			return k, true
		}
		k := string(raw)
		if len(s.keys) < 4096 {
			s.keys[k] = k
		}
		return k, true
	}
	return string(raw), true
}

// unescape decodes the escapes of a well-formed string body; surrogates (pairs included) are left to
// the reference decoder.
func unescape(raw []byte) ([]byte, bool) {
	out := make([]byte, 0, len(raw))
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		j++
		switch raw[j] {
		case '"', '\\', '/':
			out = append(out, raw[j])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			n, err := strconv.ParseUint(string(raw[j+1:j+5]), 16, 32)
			if err != nil || utf16.IsSurrogate(rune(n)) {
				return nil, false
			}
			out = utf8.AppendRune(out, rune(n))
			j += 4
		}
	}
	return out, true
}

// number reads the text of a JSON number, checked against JSON's grammar.
func (s *scanner) number() ([]byte, bool) {
	b, j := s.b, s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
	default:
		return nil, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		d := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		if j == d {
			return nil, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		d := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		if j == d {
			return nil, false
		}
	}
	out := b[s.i:j]
	s.i = j
	return out, true
}

func (s *scanner) literal(word string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// value decodes one value at s.i into the value model (as value.Decode would).
func (s *scanner) value(depth int) (any, bool) {
	if depth > fastDepth {
		return nil, false
	}
	s.ws()
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; c {
	case '{':
		s.i++
		m := map[string]any{}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return m, true
		}
		for {
			s.ws()
			k, ok := s.text(true)
			if !ok {
				return nil, false
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return nil, false
			}
			s.i++
			v, ok := s.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			s.ws()
			if s.i >= len(s.b) {
				return nil, false
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == '}' {
				s.i++
				return m, true
			}
			return nil, false
		}
	case '[':
		s.i++
		l := []any{}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return l, true
		}
		for {
			v, ok := s.value(depth + 1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
			s.ws()
			if s.i >= len(s.b) {
				return nil, false
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == ']' {
				s.i++
				return l, true
			}
			return nil, false
		}
	case '"':
		return s.text(true)
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return nil, s.literal("null")
	default:
		num, ok := s.number()
		if !ok {
			return nil, false
		}
		n, err := value.Number(string(num), "")
		return n, err == nil
	}
}

// skip passes over one well-formed value at s.i and returns its bytes.
func (s *scanner) skip(depth int) ([]byte, bool) {
	if depth > fastDepth {
		return nil, false
	}
	s.ws()
	start := s.i
	if s.i >= len(s.b) {
		return nil, false
	}
	ok := true
	switch s.b[s.i] {
	case '{':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			break
		}
		for ok {
			s.ws()
			if _, _, ok = s.rawString(); !ok {
				break
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return nil, false
			}
			s.i++
			if _, ok = s.skip(depth + 1); !ok {
				break
			}
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				break
			}
			ok = false
		}
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			break
		}
		for ok {
			if _, ok = s.skip(depth + 1); !ok {
				break
			}
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				break
			}
			ok = false
		}
	case '"':
		_, _, ok = s.rawString()
	case 't':
		ok = s.literal("true")
	case 'f':
		ok = s.literal("false")
	case 'n':
		ok = s.literal("null")
	default:
		_, ok = s.number()
	}
	if !ok {
		return nil, false
	}
	return s.b[start:s.i], true
}

// decodeFast decodes a whole document into the value model; ok is false when the reference decoder
// (value.Decode) must decide.
func decodeFast(b []byte, keys map[string]string) (any, bool) {
	s := scanner{b: b, keys: keys}
	v, ok := s.value(0)
	if !ok || !s.done() {
		return nil, false
	}
	return v, true
}

// loggedParts is what a replay compares of a logged envelope; outputs stays the raw JSON.
type loggedParts struct {
	outcome, asOfSource string
	version             string
	pinned              bool
	reasons             []string
	outputs             []byte // nil when absent or null
}

// plainText reads a string without escapes or non-ASCII bytes, which encoding/json reads the same.
func (s *scanner) plainText() (string, bool) {
	raw, escaped, ok := s.rawString()
	if !ok || escaped {
		return "", false
	}
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			return "", false
		}
	}
	if s.keys != nil {
		if k, ok := s.keys[string(raw)]; ok {
			return k, true
		}
	}
	return string(raw), true
}

// object calls field for every member of the object at s.i with its plain key; field reads the value.
func (s *scanner) object(field func(key []byte) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		raw, escaped, ok := s.rawString()
		if !ok || escaped {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		if !field(raw) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == '}' {
			s.i++
			return true
		}
		return false
	}
}

// foldsTo reports whether key is one of names under encoding/json's case-insensitive matching without
// being spelled exactly: such envelopes go to the reference decoder.
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if string(key) != n && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// scanEnvelope picks out of a logged envelope what a replay compares; ok is false whenever
// encoding/json might read it differently (then loggedEnvelope decides).
func scanEnvelope(b []byte, keys map[string]string) (loggedParts, bool) {
	var p loggedParts
	s := scanner{b: b, keys: keys}
	text := func(dst *string) bool {
		v, ok := s.plainText()
		*dst = v
		return ok
	}
	var seen [5]bool
	top := [...]string{"outcome", "as_of_source", "policy", "reasons", "outputs"}
	ok := s.object(func(key []byte) bool {
		if foldsTo(key, top[:]...) {
			return false
		}
		for i, n := range top {
			if string(key) == n {
				if seen[i] {
					return false // a repeated member: encoding/json merges, the reference decides
				}
				seen[i] = true
			}
		}
		switch string(key) {
		case "outcome":
			return text(&p.outcome)
		case "as_of_source":
			return text(&p.asOfSource)
		case "policy":
			return s.object(func(key []byte) bool {
				if foldsTo(key, "version", "digest", "language", "pinned") {
					return false
				}
				switch string(key) {
				case "version":
					return text(&p.version)
				case "digest", "language":
					var ignored string
					return text(&ignored)
				case "pinned":
					switch {
					case s.literal("true"):
						p.pinned = true
					case s.literal("false"):
						p.pinned = false
					default:
						return false
					}
					return true
				}
				_, ok := s.skip(2)
				return ok
			})
		case "reasons":
			if s.literal("null") {
				return true
			}
			if s.i >= len(s.b) || s.b[s.i] != '[' {
				return false
			}
			s.i++
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				return true
			}
			for {
				code, seen := "", false
				if !s.object(func(key []byte) bool {
					if foldsTo(key, "code") {
						return false
					}
					if string(key) == "code" {
						seen = true
						return text(&code)
					}
					_, ok := s.skip(3)
					return ok
				}) || !seen {
					return false
				}
				p.reasons = append(p.reasons, code)
				s.ws()
				if s.i < len(s.b) && s.b[s.i] == ',' {
					s.i++
					s.ws()
					continue
				}
				if s.i < len(s.b) && s.b[s.i] == ']' {
					s.i++
					return true
				}
				return false
			}
		case "outputs":
			if s.literal("null") {
				return true
			}
			if s.i < len(s.b) && s.b[s.i] != '{' {
				return false
			}
			raw, ok := s.skip(1)
			p.outputs = raw
			return ok
		}
		_, ok := s.skip(1)
		return ok
	})
	if !ok || !s.done() || p.outcome == "" {
		return loggedParts{}, false
	}
	return p, true
}

// rawSame reports whether the logged JSON raw decodes to a value sameValue finds equal to after;
// false when they differ or it cannot tell without decoding.
func rawSame(raw []byte, after any) bool {
	s := scanner{b: raw}
	if !s.same(after, 0) {
		return false
	}
	return s.done()
}

func (s *scanner) same(after any, depth int) bool {
	if depth > fastDepth {
		return false
	}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '{':
		a, ok := after.(map[string]any)
		if !ok {
			return false
		}
		var buf [32][]byte
		seen := buf[:0]
		if !s.object(func(key []byte) bool {
			if !utf8.Valid(key) {
				return false
			}
			for _, k := range seen {
				if bytes.Equal(k, key) {
					return false // a repeated key: the reference decides
				}
			}
			seen = append(seen, key)
			v, ok := a[string(key)]
			return ok && s.same(v, depth+1)
		}) {
			return false
		}
		return len(seen) == len(a)
	case '[':
		a, ok := after.([]any)
		if !ok {
			return false
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return len(a) == 0
		}
		for k := 0; ; k++ {
			if k >= len(a) || !s.same(a[k], depth+1) {
				return false
			}
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				return k+1 == len(a)
			}
			return false
		}
	case '"':
		a, ok := after.(string)
		if !ok {
			return false
		}
		raw, escaped, ok := s.rawString()
		if !ok || escaped || !utf8.Valid(raw) {
			return false
		}
		return string(raw) == a
	case 't':
		a, ok := after.(bool)
		return ok && a && s.literal("true")
	case 'f':
		a, ok := after.(bool)
		return ok && !a && s.literal("false")
	case 'n':
		return after == nil && s.literal("null")
	}
	num, ok := s.number()
	if !ok {
		return false
	}
	switch a := after.(type) {
	case int64:
		return string(num) == strconv.FormatInt(a, 10)
	case float64:
		f, err := strconv.ParseFloat(string(num), 64)
		return err == nil && f == a
	}
	return false
}
