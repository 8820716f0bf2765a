package rego

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// The coll.* builtins do in one native pass the data-parallel work a policy would otherwise do
// element by element in the interpreter (grouping, indexing and filtering a list of objects by a
// field), so that a policy stays linear in its input. They hold no business rule.
var (
	objects = types.NewAny(types.NewArray(nil, types.NewObject(nil, types.NewDynamicProperty(types.A, types.A))),
		types.NewSet(types.NewObject(nil, types.NewDynamicProperty(types.A, types.A))))
	members = types.NewAny(types.NewArray(nil, types.A), types.NewSet(types.A), types.Nl)
)

func collectionOptions() []func(*oparego.Rego) {
	return []func(*oparego.Rego){
		oparego.Function2(decl("coll.group_by", "an object from each value of field to the array of the objects of xs with that value, in the order of xs; objects without field are left out",
			types.NewObject(nil, types.NewDynamicProperty(types.A, types.NewArray(nil, types.A))),
			types.Named("xs", objects), types.Named("field", types.S)),
			func(_ oparego.BuiltinContext, xs, field *ast.Term) (*ast.Term, error) {
				key, err := fieldName(field)
				if err != nil {
					return nil, halt(err)
				}
				groups := map[int][]*groupEntry{} // by the key's hash
				var order []*groupEntry
				err = eachObject(xs, func(o ast.Object) {
					k := o.Get(key)
					if k == nil {
						return
					}
					g := findGroup(groups, k)
					if g == nil {
						g = &groupEntry{key: k}
						groups[k.Hash()] = append(groups[k.Hash()], g)
						order = append(order, g)
					}
					g.items = append(g.items, ast.NewTerm(o))
				})
				if err != nil {
					return nil, halt(fmt.Errorf("coll.group_by: %w", err))
				}
				out := ast.NewObjectWithCapacity(len(order))
				for _, g := range order {
					out.Insert(g.key, ast.ArrayTerm(g.items...))
				}
				return ast.NewTerm(out), nil
			}),
		oparego.Function2(decl("coll.index_by", "an object from each value of field to the object of xs with that value; objects without field are left out, and two different objects with one value are an error",
			types.NewObject(nil, types.NewDynamicProperty(types.A, types.A)),
			types.Named("xs", objects), types.Named("field", types.S)),
			func(_ oparego.BuiltinContext, xs, field *ast.Term) (*ast.Term, error) {
				key, err := fieldName(field)
				if err != nil {
					return nil, halt(err)
				}
				out := ast.NewObject()
				var dup *ast.Term
				err = eachObject(xs, func(o ast.Object) {
					k := o.Get(key)
					if k == nil || dup != nil {
						return
					}
					if prev := out.Get(k); prev != nil {
						if prev.Value.Compare(o) != 0 {
							dup = k
						}
						return
					}
					out.Insert(k, ast.NewTerm(o))
				})
				if err == nil && dup != nil {
					err = fmt.Errorf("two different objects have %s %v", key.Value, dup)
				}
				if err != nil {
					return nil, halt(fmt.Errorf("coll.index_by: %w", err))
				}
				return ast.NewTerm(out), nil
			}),
		oparego.Function3(decl("coll.where_in", "the objects of xs whose field is one of values (an array or a set; null is none), in the order of xs",
			types.NewArray(nil, types.A),
			types.Named("xs", objects), types.Named("field", types.S), types.Named("values", members)),
			func(_ oparego.BuiltinContext, xs, field, values *ast.Term) (*ast.Term, error) {
				return where("coll.where_in", xs, field, values, true)
			}),
		oparego.Function3(decl("coll.where_not_in", "the objects of xs whose field is missing or none of values (an array or a set; null is none), in the order of xs",
			types.NewArray(nil, types.A),
			types.Named("xs", objects), types.Named("field", types.S), types.Named("values", members)),
			func(_ oparego.BuiltinContext, xs, field, values *ast.Term) (*ast.Term, error) {
				return where("coll.where_not_in", xs, field, values, false)
			}),
	}
}

type groupEntry struct {
	key   *ast.Term
	items []*ast.Term
}

func findGroup(groups map[int][]*groupEntry, k *ast.Term) *groupEntry {
	for _, g := range groups[k.Hash()] {
		if g.key.Equal(k) {
			return g
		}
	}
	return nil
}

func where(name string, xs, field, values *ast.Term, in bool) (*ast.Term, error) {
	key, err := fieldName(field)
	if err != nil {
		return nil, halt(err)
	}
	set, err := valueSet(values)
	if err != nil {
		return nil, halt(fmt.Errorf("%s: %w", name, err))
	}
	var out []*ast.Term
	err = eachObject(xs, func(o ast.Object) {
		v := o.Get(key)
		if (v != nil && set.Contains(v)) == in {
			out = append(out, ast.NewTerm(o))
		}
	})
	if err != nil {
		return nil, halt(fmt.Errorf("%s: %w", name, err))
	}
	return ast.ArrayTerm(out...), nil
}

func fieldName(t *ast.Term) (*ast.Term, error) {
	if _, ok := t.Value.(ast.String); !ok {
		return nil, fmt.Errorf("field must be a string, not %v", ast.ValueName(t.Value))
	}
	return t, nil
}

// valueSet reads an array or set of values; null is the empty set.
func valueSet(t *ast.Term) (ast.Set, error) {
	switch v := t.Value.(type) {
	case ast.Set:
		return v, nil
	case *ast.Array:
		s := ast.NewSetWithCapacity(v.Len())
		v.Foreach(s.Add)
		return s, nil
	case ast.Null:
		return ast.NewSet(), nil
	}
	return nil, fmt.Errorf("values must be an array, a set or null, not %v", ast.ValueName(t.Value))
}

// eachObject calls fn for every element of an array or set of objects, in order.
func eachObject(t *ast.Term, fn func(ast.Object)) error {
	var bad ast.Value
	visit := func(e *ast.Term) {
		if bad != nil {
			return
		}
		o, ok := e.Value.(ast.Object)
		if !ok {
			bad = e.Value
			return
		}
		fn(o)
	}
	switch v := t.Value.(type) {
	case *ast.Array:
		v.Foreach(visit)
	case ast.Set:
		v.Foreach(visit)
	default:
		return fmt.Errorf("xs must be an array or a set of objects, not %v", ast.ValueName(t.Value))
	}
	if bad != nil {
		return fmt.Errorf("xs holds %v, not an object", ast.ValueName(bad))
	}
	return nil
}
