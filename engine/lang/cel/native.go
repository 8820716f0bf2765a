package cel

import (
	"fmt"
	"math"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// Native converts a CEL result to a value encoding/json can write: map[string]any, []any, string,
// int64, uint64, float64, bool or nil. Decimals become their canonical string, timestamps RFC 3339
// in UTC, durations CEL's "1.5s" form, an empty optional nil; an error result is returned as the error.
func Native(v ref.Val) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case *types.Err:
		return nil, t
	case *types.Unknown:
		return nil, fmt.Errorf("result is unknown: %v", t)
	case decVal:
		return String(t.d), nil
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(t), nil
	case types.Int:
		return int64(t), nil
	case types.Uint:
		return uint64(t), nil
	case types.Double:
		f := float64(t)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("double %v has no JSON form", f)
		}
		return f, nil
	case types.String:
		return string(t), nil
	case types.Timestamp:
		return t.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return string(t.ConvertToType(types.StringType).(types.String)), nil
	case *types.Optional:
		if !t.HasValue() {
			return nil, nil
		}
		return Native(t.GetValue())
	case ref.Type:
		return t.TypeName(), nil
	}
	switch v.Type().TypeName() {
	case types.ListType.TypeName():
		if l, ok := v.(traits.Lister); ok {
			return nativeList(l)
		}
	case types.MapType.TypeName():
		if m, ok := v.(traits.Mapper); ok {
			return nativeMap(m)
		}
	}
	return nil, fmt.Errorf("a value of type %s has no JSON form", v.Type().TypeName())
}

func nativeList(l traits.Lister) ([]any, error) {
	n := int64(l.Size().(types.Int))
	out := make([]any, 0, n)
	for i := int64(0); i < n; i++ {
		e, err := Native(l.Get(types.Int(i)))
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func nativeMap(m traits.Mapper) (map[string]any, error) {
	out := make(map[string]any, int64(m.Size().(types.Int)))
	for it := m.Iterator(); it.HasNext() == types.True; {
		k := it.Next()
		var key string
		switch kt := k.(type) {
		case types.String:
			key = string(kt)
		case types.Int, types.Uint, types.Bool:
			key = string(kt.ConvertToType(types.StringType).(types.String))
		default:
			return nil, fmt.Errorf("map key of type %s has no JSON form", k.Type().TypeName())
		}
		e, err := Native(m.Get(k))
		if err != nil {
			return nil, fmt.Errorf("[%q]: %w", key, err)
		}
		out[key] = e
	}
	return out, nil
}
